//! Role and permission GraphQL types.

use async_graphql::{Enum, InputObject, Object, SimpleObject};

use crate::{
    db::{data_scope, role::RoleGrants},
    service::roles::RoleChanges,
};

/// A named set of permissions granted to users.
pub struct Role(pub RoleGrants);

#[Object]
impl Role {
    async fn name(&self) -> &str {
        &self.0.role.name
    }
    /// `*`, `resource:*` or `resource:action` strings, sorted.
    async fn permissions(&self) -> &[String] {
        &self.0.permissions
    }
    async fn data_scope(&self) -> DataScope {
        data_scope::DataScope::parse(&self.0.role.data_scope).into()
    }
}

/// Which organisation-owned rows (blacklist entries) a role's permissions reach. A permission
/// held through an `ALL` role reaches every row; one held only through `ORG` roles reaches the
/// rows of the holder's own organisation, and none when the holder belongs to no organisation.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DataScope {
    All,
    Org,
}

impl From<data_scope::DataScope> for DataScope {
    fn from(scope: data_scope::DataScope) -> Self {
        match scope {
            data_scope::DataScope::All => Self::All,
            data_scope::DataScope::Org => Self::Org,
        }
    }
}

impl From<DataScope> for data_scope::DataScope {
    fn from(scope: DataScope) -> Self {
        match scope {
            DataScope::All => Self::All,
            DataScope::Org => Self::Org,
        }
    }
}

/// A permission the server checks, and what it allows.
#[derive(SimpleObject)]
pub struct PermissionInfo {
    pub name: &'static str,
    pub description: &'static str,
}

#[derive(InputObject)]
pub struct CreateRoleInput {
    /// 1 to 64 of `a-z`, `0-9`, `.`, `_`, `-`, `@`, after lower-casing.
    pub name: String,
    /// The caller must hold each one, as far as the role reaches.
    pub permissions: Vec<String>,
    /// `ALL` when not given.
    #[graphql(default_with = "DataScope::All")]
    pub data_scope: DataScope,
}

/// What to change; a field not given stays as it is.
#[derive(InputObject)]
pub struct UpdateRoleInput {
    /// The role's whole new set; the caller must hold each one the role gains.
    pub permissions: Option<Vec<String>>,
    /// Widening to `ALL` counts as gaining every permission the role holds.
    pub data_scope: Option<DataScope>,
}

impl UpdateRoleInput {
    pub fn parse(self) -> RoleChanges {
        RoleChanges {
            permissions: self.permissions,
            scope: self.data_scope.map(Into::into),
        }
    }
}
