//! Permission strings (`resource:action`) and how a granted one covers a required one.

pub const BLACKLIST_READ: &str = "blacklist:read";
pub const BLACKLIST_CREATE: &str = "blacklist:create";
pub const BLACKLIST_UPDATE: &str = "blacklist:update";
pub const BLACKLIST_DELETE: &str = "blacklist:delete";
pub const TOKEN_REVOKE: &str = "token:revoke";
pub const USER_MANAGE: &str = "user:manage";
pub const ROLE_MANAGE: &str = "role:manage";
pub const SERVICE_MANAGE: &str = "service:manage";
pub const AUDIT_READ: &str = "audit:read";

/// Permissions over what no organisation owns (roles, service accounts, the audit log of every
/// organisation): they count only when held through an `ALL` role, since no organisation's
/// share of them exists to limit them to (see `db::data_scope`).
pub const UNSCOPED: &[&str] = &[ROLE_MANAGE, SERVICE_MANAGE, AUDIT_READ];

/// Every permission the server checks, with what it allows: what a UI offers as checkboxes.
/// A permission missing here can still be granted, but nobody would know to grant it.
pub const KNOWN: &[(&str, &str)] = &[
    ("*", "everything, including every permission added later"),
    (
        BLACKLIST_READ,
        "read blacklist entries and ask whether an address is blocked",
    ),
    (
        BLACKLIST_CREATE,
        "add addresses and blocks to the blacklist",
    ),
    (BLACKLIST_UPDATE, "change blacklist entries"),
    (BLACKLIST_DELETE, "remove blacklist entries"),
    (TOKEN_REVOKE, "end every live session of a user"),
    (
        USER_MANAGE,
        "list, create and change users, their passwords and their roles",
    ),
    (ROLE_MANAGE, "list, create, change and delete roles"),
    (
        SERVICE_MANAGE,
        "list, create, rotate and disable service accounts",
    ),
    (AUDIT_READ, "read the audit log"),
];

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

/// The width of the permission columns.
const MAX_PERMISSION_CHARS: usize = 128;

/// Checks that a permission string is one of `*`, `resource:*` or `resource:action`.
pub fn validate(permission: &str) -> Result<(), String> {
    if permission.len() > MAX_PERMISSION_CHARS {
        return Err(format!(
            "a permission is at most {MAX_PERMISSION_CHARS} characters"
        ));
    }
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
    fn every_known_permission_is_valid_and_listed_once() {
        for (i, (name, description)) in KNOWN.iter().enumerate() {
            assert!(validate(name).is_ok(), "{name}");
            assert!(!description.is_empty(), "{name}");
            assert!(KNOWN[..i].iter().all(|(other, _)| other != name), "{name}");
        }
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
        assert!(validate(&format!("a:{}", "b".repeat(127))).is_err());
    }
}
