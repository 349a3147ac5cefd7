//! Account names (usernames and service client ids) in one canonical spelling, used for storage,
//! lookup and login throttling alike: Unicode NFKC, trimmed, lower-cased, NFKC again. So `ADMIN`,
//! ` admin ` and fullwidth `ａｄｍｉｎ` are one name with one set of counters, and a database
//! collation never gets to decide which spellings match.

use unicode_normalization::UnicodeNormalization;

use crate::error::ApiError;

const MAX_NAME_CHARS: usize = 64;

/// The canonical spelling of any presented name (lower-casing can undo NFKC, so it runs twice).
pub fn canonical(name: &str) -> String {
    let lowered = name.nfkc().collect::<String>().trim().to_lowercase();
    lowered.nfkc().collect()
}

/// Whether a canonical name is one an account can have: 1 to 64 of `a-z`, `0-9`, `.`, `_`, `-`,
/// `@`. Anything else cannot name a stored account, so a login with it never reaches the database.
pub fn is_valid(canonical: &str) -> bool {
    let allowed = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
    };
    !canonical.is_empty()
        && canonical.chars().count() <= MAX_NAME_CHARS
        && canonical.chars().all(allowed)
}

/// The canonical form of a name for a new account, or BAD_USER_INPUT naming `field`.
pub fn parse(field: &'static str, name: &str) -> Result<String, ApiError> {
    let canonical = canonical(name);
    if is_valid(&canonical) {
        Ok(canonical)
    } else {
        Err(ApiError::bad_input(
            field,
            format!("must be 1 to {MAX_NAME_CHARS} letters, digits, `.`, `_`, `-` or `@`"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_name_meet() {
        for spelling in ["admin", "ADMIN", " Admin\t", "ａｄｍｉｎ", "ＡＤＭＩＮ"] {
            assert_eq!(canonical(spelling), "admin", "{spelling:?}");
        }
    }

    #[test]
    fn different_names_stay_apart() {
        assert_ne!(canonical("ádmin"), "admin");
        assert_ne!(canonical("adm\u{0131}n"), "admin", "dotless i");
        assert!(!is_valid(&canonical("ádmin")));
        assert!(!is_valid(&canonical("ad min")));
    }

    #[test]
    fn the_canonical_form_is_stable() {
        for name in ["İstanbul", "ǅemal", "ﬁle", "ＡＤＭＩＮ", "straße"] {
            let once = canonical(name);
            assert_eq!(canonical(&once), once, "{name:?}");
        }
    }

    #[test]
    fn account_names_are_checked_after_canonicalisation() {
        assert_eq!(parse("username", " Alice ").expect("valid"), "alice");
        assert!(parse("username", "").is_err());
        assert!(parse("username", "a:b").is_err());
        assert!(parse("username", &"a".repeat(65)).is_err());
    }
}
