//! Account names as presented at login: the canonical form is a fixed point, and a name an
//! account can have is plain lower-case ASCII, so no collation can match it to another.
#![no_main]

use api::auth::name;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let canonical = name::canonical(input);
    assert_eq!(name::canonical(&canonical), canonical, "{input:?}");
    if name::is_valid(&canonical) {
        assert!(
            canonical
                .bytes()
                .all(|b| b.is_ascii() && !b.is_ascii_uppercase()),
            "{canonical:?}"
        );
        assert_eq!(
            name::parse("name", input).ok().as_deref(),
            Some(canonical.as_str())
        );
    } else {
        assert!(name::parse("name", input).is_err(), "{input:?}");
    }
});
