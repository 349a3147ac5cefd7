//! Who made a change, as the audit fields (`createdBy`, `updatedBy`, the organisation of a new
//! row) record it. Built by the layers above from whoever is calling; storage only writes it.

/// Marks a service account in audit fields. Account names cannot contain `:` (see
/// `auth::name`), so no user's name can be read as a service account's, or the reverse.
pub const SERVICE_PREFIX: &str = "service:";

/// The author of a change, as rows record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub kind: ActorKind,
    /// The user's name or the service account's client id.
    pub name: String,
    pub actor_name: Option<String>,
    /// The organisation and company a row created by this author belongs to.
    pub org_code: Option<String>,
    pub company_code: Option<String>,
}

/// Whether the author is a person or a service account: recorded apart, so that a service
/// account named like a user (`admin`) cannot pass for that user in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    User,
    Service,
}

impl ActorKind {
    /// As the audit log stores it, the GraphQL `PrincipalKind` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "USER",
            Self::Service => "SERVICE",
        }
    }
}

impl Audit {
    pub fn new(kind: ActorKind, name: &str) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            actor_name: None,
            org_code: None,
            company_code: None,
        }
    }

    /// As audit fields record the author: a user's name, or `service:<client id>` for a service
    /// account.
    pub fn actor(&self) -> String {
        match self.kind {
            ActorKind::User => self.name.clone(),
            ActorKind::Service => format!("{SERVICE_PREFIX}{}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_named_like_a_user_is_recorded_apart_from_it() {
        assert_eq!(Audit::new(ActorKind::User, "admin").actor(), "admin");
        assert_eq!(
            Audit::new(ActorKind::Service, "admin").actor(),
            "service:admin"
        );
    }
}
