//! Principal: the caller a live token stands for, as the liveness store keeps it.

use async_graphql::{Enum, SimpleObject};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::permission;
use crate::{
    db::{
        audit::{ActorKind, Audit},
        data_scope::{Grants, Reach},
    },
    error::ApiError,
};

/// A change made to the principal inside every live token of one subject (see
/// `TokenStore::update_subject`).
pub type PrincipalUpdate<'a> = dyn Fn(&mut Principal) + Send + Sync + 'a;

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
    /// Those of `permissions` held only through `ORG` roles: they reach the rows of `orgCode`
    /// alone (and none without one).
    // Absent from token records written before data scopes existed: those reach everything.
    #[graphql(name = "orgOnlyPermissions")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_only: Vec<String>,
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

    /// Which rows of an organisation-owned resource `required` reaches for this principal:
    /// everything when some permission reaching everything covers it, else its organisation's.
    pub fn reach(&self, required: &str) -> Reach {
        if self.reaches_everything(required) {
            Reach::Everything
        } else {
            Reach::Organisation(self.org_code.clone())
        }
    }

    /// Whether a permission held through an `ALL` role covers `required`.
    fn reaches_everything(&self, required: &str) -> bool {
        self.permissions
            .iter()
            .filter(|granted| !self.org_only.contains(granted))
            .any(|granted| permission::covers(granted, required))
    }

    /// Makes `grants` this principal's permissions and their reach.
    pub fn set_grants(&mut self, grants: Grants) {
        self.permissions = grants.permissions;
        self.org_only = grants.org_only;
    }

    /// Whether this principal still holds everything `before` held, as far as it reached then:
    /// no permission lost, none narrowed to an organisation, no organisation changed under one.
    pub fn keeps_rights_of(&self, before: &Principal) -> bool {
        before.permissions.iter().all(|held| {
            self.has_permission(held)
                && (self.reaches_everything(held)
                    || !before.reaches_everything(held) && before.org_code == self.org_code)
        })
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

    /// FORBIDDEN naming the first of `grants` this principal does not hold itself, as far as it
    /// would reach: nobody hands out more than they have, or `role:manage` alone would be a way
    /// to `*`, and an organisation's administrator a way to every organisation's rows.
    pub fn may_grant(&self, grants: &Grants) -> Result<(), ApiError> {
        let holds = |permission: &String| {
            self.has_permission(permission)
                && (grants.org_only.contains(permission) || self.reaches_everything(permission))
        };
        match grants
            .permissions
            .iter()
            .find(|permission| !holds(permission))
        {
            Some(missing) => Err(ApiError::Forbidden {
                permission: missing.clone(),
            }),
            None => Ok(()),
        }
    }

    /// FORBIDDEN unless this principal holds `required`; one of [`permission::UNSCOPED`] must
    /// reach everything.
    pub fn require(&self, required: &'static str) -> Result<&Self, ApiError> {
        let holds = if permission::UNSCOPED.contains(&required) {
            self.reaches_everything(required)
        } else {
            self.has_permission(required)
        };
        if holds {
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
    use crate::db::data_scope::DataScope;

    fn holding(permissions: &[&str]) -> Principal {
        Principal {
            subject_id: Uuid::nil(),
            username: "granter".to_owned(),
            display_name: None,
            kind: PrincipalKind::User,
            permissions: strings(permissions),
            org_only: Vec::new(),
            org_code: Some("A01".to_owned()),
            company_code: None,
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn everywhere(items: &[&str]) -> Grants {
        Grants::everywhere(strings(items))
    }

    #[test]
    fn only_what_is_held_can_be_granted() {
        let granter = holding(&["blacklist:*", "role:manage"]);
        assert!(
            granter
                .may_grant(&everywhere(&["blacklist:read", "blacklist:*"]))
                .is_ok()
        );
        let refused = granter.may_grant(&everywhere(&["blacklist:read", "user:manage"]));
        assert!(
            matches!(refused, Err(ApiError::Forbidden { permission }) if permission == "user:manage")
        );
        assert!(granter.may_grant(&everywhere(&["*"])).is_err());
        assert!(
            holding(&["*"])
                .may_grant(&everywhere(&["*", "audit:read"]))
                .is_ok()
        );
    }

    #[test]
    fn what_reaches_one_organisation_is_granted_only_as_far() {
        let mut granter = holding(&["blacklist:*", "role:manage"]);
        granter.org_only = strings(&["blacklist:*"]);
        let org = Grants::scoped(strings(&["blacklist:read"]), DataScope::Org);
        let all = Grants::scoped(strings(&["blacklist:read"]), DataScope::All);
        assert!(granter.may_grant(&org).is_ok());
        assert!(granter.may_grant(&all).is_err());
        assert_eq!(
            granter.reach("blacklist:read"),
            Reach::Organisation(Some("A01".to_owned()))
        );
        assert_eq!(granter.reach("role:manage"), Reach::Everything);
    }

    #[test]
    fn rights_over_what_no_organisation_owns_count_only_everywhere() {
        let mut officer = holding(&["role:manage", "blacklist:read"]);
        officer.org_only = strings(&["role:manage", "blacklist:read"]);
        assert!(officer.require(permission::ROLE_MANAGE).is_err());
        assert!(officer.require(permission::BLACKLIST_READ).is_ok());
        assert!(holding(&["*"]).require(permission::AUDIT_READ).is_ok());
    }

    #[test]
    fn narrowing_or_moving_an_organisation_loses_rights() {
        let before = holding(&["blacklist:read"]);
        let mut narrowed = before.clone();
        narrowed.org_only = strings(&["blacklist:read"]);
        assert!(!narrowed.keeps_rights_of(&before));
        assert!(before.keeps_rights_of(&narrowed));
        let mut moved = narrowed.clone();
        moved.org_code = Some("B02".to_owned());
        assert!(!moved.keeps_rights_of(&narrowed));
        assert!(narrowed.keeps_rights_of(&narrowed));
    }
}
