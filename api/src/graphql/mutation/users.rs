//! Administering users. What the caller may grant comes from their principal, never from input.

use async_graphql::{Context, ID, Object, ResultExt};

use crate::{
    auth::{RequestAuth, guard::RequirePermission, permission},
    graphql::{
        access::requires,
        types::{
            input::parse_id,
            user::{CreateUserInput, UpdateUserInput, User},
        },
    },
    service,
    state::AppState,
};

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates a user holding existing roles, whose permissions the caller must hold.
    #[graphql(
        guard = "RequirePermission(permission::USER_MANAGE)",
        directive = requires::apply(permission::USER_MANAGE.to_owned())
    )]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> async_graphql::Result<User> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let new = input.parse().extend()?;
        let user = service::users::create(state, principal, new)
            .await
            .extend()?;
        Ok(User(user))
    }

    /// Changes a user; `enabled: false` ends their live tokens at once.
    #[graphql(
        guard = "RequirePermission(permission::USER_MANAGE)",
        directive = requires::apply(permission::USER_MANAGE.to_owned())
    )]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let id = parse_id(&id).extend()?;
        let changes = input.parse().extend()?;
        let user = service::users::update(state, principal, id, changes)
            .await
            .extend()?;
        Ok(User(user))
    }

    /// Sets a new password and ends the user's live tokens at once.
    #[graphql(
        guard = "RequirePermission(permission::USER_MANAGE)",
        directive = requires::apply(permission::USER_MANAGE.to_owned())
    )]
    async fn set_user_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        password: String,
    ) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let id = parse_id(&id).extend()?;
        service::users::set_password(state, principal, id, &password)
            .await
            .extend()?;
        Ok(true)
    }

    /// Makes `roles` the user's whole set; live tokens follow at once. The caller must hold every
    /// permission of the roles added.
    #[graphql(
        guard = "RequirePermission(permission::USER_MANAGE)",
        directive = requires::apply(permission::USER_MANAGE.to_owned())
    )]
    async fn set_user_roles(
        &self,
        ctx: &Context<'_>,
        id: ID,
        roles: Vec<String>,
    ) -> async_graphql::Result<User> {
        let state = ctx.data::<AppState>()?;
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let id = parse_id(&id).extend()?;
        let user = service::users::set_roles(state, principal, id, &roles)
            .await
            .extend()?;
        Ok(User(user))
    }
}
