//! Reading roles and the permissions a role can hold.

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{guard::RequirePermission, permission},
    db,
    graphql::{
        access::requires,
        types::role::{PermissionInfo, Role},
    },
    state::AppState,
};

#[derive(Default)]
pub struct RoleQuery;

#[Object]
impl RoleQuery {
    /// Every role with its permissions, by name.
    #[graphql(
        guard = "RequirePermission(permission::ROLE_MANAGE)",
        directive = requires::apply(permission::ROLE_MANAGE.to_owned())
    )]
    async fn roles(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Role>> {
        let state = ctx.data::<AppState>()?;
        let roles = db::role::list(&state.db).await.extend()?;
        Ok(roles.into_iter().map(Role).collect())
    }

    /// Every permission the server checks, with what it allows (for a role editor's checkboxes).
    #[graphql(
        guard = "RequirePermission(permission::ROLE_MANAGE)",
        directive = requires::apply(permission::ROLE_MANAGE.to_owned())
    )]
    async fn permissions(&self) -> Vec<PermissionInfo> {
        permission::KNOWN
            .iter()
            .map(|&(name, description)| PermissionInfo { name, description })
            .collect()
    }
}
