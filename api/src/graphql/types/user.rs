//! User GraphQL types, and turning raw input into checked `db::user` / `service::users` values.

use async_graphql::{ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};

use crate::{
    db::user::{UserChanges, UserFilter as CheckedFilter},
    error::ApiError,
    graphql::types::input::{clearable, optional_text},
    service::users::{NewAccount, UserWithRoles},
};

/// The widths of the columns.
const MAX_DISPLAY_NAME_CHARS: usize = 128;
const MAX_ORG_CODE_CHARS: usize = 64;
const MAX_FILTER_CHARS: usize = 64;

/// A person who logs in with a username and password.
pub struct User(pub UserWithRoles);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.user.id.to_string())
    }
    /// The canonical spelling: lower case, as login accepts it in any case.
    async fn username(&self) -> &str {
        &self.0.user.username
    }
    async fn display_name(&self) -> Option<&str> {
        self.0.user.display_name.as_deref()
    }
    async fn org_code(&self) -> Option<&str> {
        self.0.user.org_code.as_deref()
    }
    /// A disabled user cannot log in, and had every live token ended when disabled.
    async fn enabled(&self) -> bool {
        self.0.user.enabled
    }
    /// The names of the roles the user holds, sorted.
    async fn roles(&self) -> &[String] {
        &self.0.roles
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.user.created_at.to_utc()
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    /// 1 to 64 of `a-z`, `0-9`, `.`, `_`, `-`, `@`, after lower-casing.
    pub username: String,
    /// 8 to 256 characters; stored only as an argon2id hash.
    pub password: String,
    pub display_name: Option<String>,
    pub org_code: Option<String>,
    /// Existing roles; the caller must hold every permission they grant.
    #[graphql(default)]
    pub roles: Vec<String>,
}

/// Omitted fields stay as they are; `null` clears `displayName` or `orgCode`.
#[derive(InputObject)]
pub struct UpdateUserInput {
    pub display_name: MaybeUndefined<String>,
    pub org_code: MaybeUndefined<String>,
    /// `false` ends the user's live tokens and refuses their logins.
    pub enabled: Option<bool>,
}

#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Part of the username or of the display name, in any case.
    pub name_contains: Option<String>,
    /// Exactly this organisation code.
    pub org_code: Option<String>,
    pub enabled: Option<bool>,
}

impl CreateUserInput {
    pub fn parse(self) -> Result<NewAccount, ApiError> {
        Ok(NewAccount {
            username: self.username,
            password: self.password,
            display_name: optional_text("displayName", self.display_name, MAX_DISPLAY_NAME_CHARS)?,
            org_code: optional_text("orgCode", self.org_code, MAX_ORG_CODE_CHARS)?,
            roles: self.roles,
        })
    }
}

impl UpdateUserInput {
    pub fn parse(self) -> Result<UserChanges, ApiError> {
        Ok(UserChanges {
            display_name: clearable("displayName", self.display_name, MAX_DISPLAY_NAME_CHARS)?,
            org_code: clearable("orgCode", self.org_code, MAX_ORG_CODE_CHARS)?,
            enabled: self.enabled,
        })
    }
}

impl UserFilter {
    pub fn parse(self) -> Result<CheckedFilter, ApiError> {
        Ok(CheckedFilter {
            name_contains: optional_text("nameContains", self.name_contains, MAX_FILTER_CHARS)?,
            org_code: optional_text("orgCode", self.org_code, MAX_ORG_CODE_CHARS)?,
            enabled: self.enabled,
        })
    }
}
