//! Principal: the caller a live token stands for, as the liveness store keeps it.

use async_graphql::{Enum, SimpleObject};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::permission;
use crate::{
    db::audit::{ActorKind, Audit},
    error::ApiError,
};

/// What kind of caller a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PrincipalKind {
    User,
    Service,
}

// Holds everything the guards and audit fields need, so no request has to read the database for it.
/// The caller a token stands for: a person (USER) or a service account (SERVICE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    /// The user's or service account's id.
    #[graphql(skip)]
    pub subject_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub kind: PrincipalKind,
    pub permissions: Vec<String>,
    pub org_code: Option<String>,
    #[graphql(skip)]
    pub company_code: Option<String>,
}

impl Principal {
    pub fn has_permission(&self, required: &str) -> bool {
        self.permissions
            .iter()
            .any(|granted| permission::covers(granted, required))
    }

    /// How the changes this principal makes are recorded.
    pub fn audit(&self) -> Audit {
        let kind = match self.kind {
            PrincipalKind::User => ActorKind::User,
            PrincipalKind::Service => ActorKind::Service,
        };
        Audit {
            actor_name: self.display_name.clone(),
            org_code: self.org_code.clone(),
            company_code: self.company_code.clone(),
            ..Audit::new(kind, &self.username)
        }
    }

    /// FORBIDDEN naming the first of `permissions` this principal does not hold itself: nobody
    /// hands out more than they have, or `role:manage` alone would be a way to `*`.
    pub fn may_grant<'a>(
        &self,
        permissions: impl IntoIterator<Item = &'a String>,
    ) -> Result<(), ApiError> {
        match permissions
            .into_iter()
            .find(|permission| !self.has_permission(permission))
        {
            Some(missing) => Err(ApiError::Forbidden {
                permission: missing.clone(),
            }),
            None => Ok(()),
        }
    }

    pub fn require(&self, required: &'static str) -> Result<&Self, ApiError> {
        if self.has_permission(required) {
            Ok(self)
        } else {
            Err(ApiError::Forbidden {
                permission: required.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(permissions: &[&str]) -> Principal {
        Principal {
            subject_id: Uuid::nil(),
            username: "granter".to_owned(),
            display_name: None,
            kind: PrincipalKind::User,
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            org_code: None,
            company_code: None,
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_what_is_held_can_be_granted() {
        let granter = holding(&["blacklist:*", "role:manage"]);
        assert!(
            granter
                .may_grant(&strings(&["blacklist:read", "blacklist:*"]))
                .is_ok()
        );
        let refused = granter.may_grant(&strings(&["blacklist:read", "user:manage"]));
        assert!(
            matches!(refused, Err(ApiError::Forbidden { permission }) if permission == "user:manage")
        );
        assert!(granter.may_grant(&strings(&["*"])).is_err());
        assert!(
            holding(&["*"])
                .may_grant(&strings(&["*", "audit:read"]))
                .is_ok()
        );
    }
}
