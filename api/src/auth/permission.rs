//! Permission strings (`resource:action`) and how a granted one covers a required one.

pub const BLACKLIST_READ: &str = "blacklist:read";
pub const BLACKLIST_CREATE: &str = "blacklist:create";
pub const BLACKLIST_UPDATE: &str = "blacklist:update";
pub const BLACKLIST_DELETE: &str = "blacklist:delete";
pub const TOKEN_REVOKE: &str = "token:revoke";
pub const AUDIT_READ: &str = "audit:read";

/// Whether `granted` (exact, `resource:*` or `*`) covers `required`.
pub fn covers(granted: &str, required: &str) -> bool {
    if granted == "*" || granted == required {
        return true;
    }
    match granted.strip_suffix('*') {
        // `blacklist:*` keeps its colon, so it cannot cover `blacklists:read`.
        Some(prefix) if prefix.ends_with(':') => required.starts_with(prefix),
        _ => false,
    }
}

/// Checks that a permission string is one of `*`, `resource:*` or `resource:action`.
pub fn validate(permission: &str) -> Result<(), String> {
    let is_word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if permission == "*" {
        return Ok(());
    }
    match permission.split_once(':') {
        Some((resource, action)) if is_word(resource) && (action == "*" || is_word(action)) => {
            Ok(())
        }
        _ => Err(format!(
            "`{permission}` is not `*`, `resource:*` or `resource:action`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_covers_everything() {
        assert!(covers("*", BLACKLIST_DELETE));
    }

    #[test]
    fn resource_wildcard_covers_only_its_resource() {
        assert!(covers("blacklist:*", BLACKLIST_READ));
        assert!(!covers("blacklist:*", "blacklists:read"));
        assert!(!covers("black*", BLACKLIST_READ));
    }

    #[test]
    fn exact_permission_covers_only_itself() {
        assert!(covers(BLACKLIST_READ, BLACKLIST_READ));
        assert!(!covers(BLACKLIST_READ, BLACKLIST_CREATE));
    }

    #[test]
    fn permission_syntax_is_checked() {
        assert!(validate("*").is_ok());
        assert!(validate("blacklist:*").is_ok());
        assert!(validate("token:revoke").is_ok());
        assert!(validate("blacklist").is_err());
        assert!(validate(":read").is_err());
        assert!(validate("a:b:c").is_err());
        assert!(validate("*:read").is_err());
    }
}
