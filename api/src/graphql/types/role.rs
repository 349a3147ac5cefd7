//! Role and permission GraphQL types.

use async_graphql::{InputObject, Object, SimpleObject};

use crate::db::role::RoleGrants;

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
    /// The caller must hold each one.
    pub permissions: Vec<String>,
}

#[derive(InputObject)]
pub struct UpdateRoleInput {
    /// The role's whole new set; the caller must hold each one the role gains.
    pub permissions: Vec<String>,
}
