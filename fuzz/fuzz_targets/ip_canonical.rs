//! The blacklist's address parser: whatever it accepts, its canonical form parses back to itself
//! and names the same addresses.
#![no_main]

use std::net::IpAddr;

use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Ok(canonical) = api::ip::canonicalize(input) else {
        return;
    };
    assert_eq!(
        api::ip::canonicalize(&canonical).as_deref(),
        Ok(canonical.as_str()),
        "the canonical form of {input:?} is not a fixed point"
    );
    assert_eq!(canonical, canonical.to_lowercase(), "{input:?}");
    let parsed = canonical
        .parse::<IpAddr>()
        .map(IpNet::from)
        .or_else(|_| canonical.parse::<IpNet>())
        .unwrap_or_else(|_| panic!("{canonical:?} from {input:?} does not parse"));
    assert_eq!(
        parsed,
        parsed.trunc(),
        "host bits survived in {canonical:?}"
    );
    assert!(
        parsed.prefix_len() > 0,
        "a /0 block was accepted from {input:?}"
    );
});
