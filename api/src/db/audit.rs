//! Who made a change, as the audit fields (`createdBy`, `updatedBy`) record it.

use crate::auth::{Principal, PrincipalKind};

/// Marks a service account in audit fields. Account names cannot contain `:` (see
/// `accounts::check_name`), so no user's name can be read as a service account's, or the reverse.
pub const SERVICE_PREFIX: &str = "service:";

/// A user is recorded by username, a service account as `service:<client id>`: a service account
/// named like a user (`admin`) must not pass for that user in the audit trail.
pub fn actor(by: &Principal) -> String {
    match by.kind {
        PrincipalKind::User => by.username.clone(),
        PrincipalKind::Service => format!("{SERVICE_PREFIX}{}", by.username),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn principal(name: &str, kind: PrincipalKind) -> Principal {
        Principal {
            subject_id: Uuid::now_v7(),
            username: name.to_owned(),
            display_name: None,
            kind,
            permissions: Vec::new(),
            org_code: None,
            company_code: None,
        }
    }

    #[test]
    fn a_service_named_like_a_user_is_recorded_apart_from_it() {
        assert_eq!(actor(&principal("admin", PrincipalKind::User)), "admin");
        assert_eq!(
            actor(&principal("admin", PrincipalKind::Service)),
            "service:admin"
        );
    }
}
