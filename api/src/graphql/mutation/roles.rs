//! Administering roles. What the caller may grant comes from their principal, never from input.

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{RequestAuth, guard::RequirePermission, permission},
    graphql::{
        access::requires,
        types::role::{CreateRoleInput, Role, UpdateRoleInput},
    },
    service,
    state::AppState,
};

#[derive(Default)]
pub struct RoleMutation;

#[Object]
impl RoleMutation {
    /// Creates a role; the caller must hold each of its permissions.
    #[graphql(
        guard = "RequirePermission(permission::ROLE_MANAGE)",
        directive = requires::apply(permission::ROLE_MANAGE.to_owned())
    )]
    async fn create_role(
        &self,
        ctx: &Context<'_>,
        input: CreateRoleInput,
    ) -> async_graphql::Result<Role> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let role = service::roles::create(
            state,
            principal,
            &input.name,
            &input.permissions,
            input.data_scope.into(),
        )
        .await
        .extend()?;
        Ok(Role(role))
    }

    /// Replaces a role's permissions; its holders' live tokens follow at once.
    #[graphql(
        guard = "RequirePermission(permission::ROLE_MANAGE)",
        directive = requires::apply(permission::ROLE_MANAGE.to_owned())
    )]
    async fn update_role(
        &self,
        ctx: &Context<'_>,
        name: String,
        input: UpdateRoleInput,
    ) -> async_graphql::Result<Role> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let role = service::roles::update(state, principal, &name, input.parse())
            .await
            .extend()?;
        Ok(Role(role))
    }

    /// Deletes a role and returns its name; its holders lose what it granted at once.
    #[graphql(
        guard = "RequirePermission(permission::ROLE_MANAGE)",
        directive = requires::apply(permission::ROLE_MANAGE.to_owned())
    )]
    async fn delete_role(&self, ctx: &Context<'_>, name: String) -> async_graphql::Result<String> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        service::roles::delete(state, &name, &principal.audit())
            .await
            .extend()?;
        Ok(name)
    }
}
