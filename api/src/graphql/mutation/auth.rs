//! Logging in and out, for people and for services, and revoking a user's tokens.

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{
        RequestAuth,
        guard::{Authenticated, RequirePermission},
        permission,
        request::ClientIp,
    },
    graphql::{
        access::{authenticated, public, requires},
        types::auth::AuthPayload,
    },
    service::{login, sessions},
    state::AppState,
};

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Exchanges a username and password for a token.
    #[graphql(directive = public::apply())]
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let address = ctx.data_opt::<ClientIp>().map(|client| client.0);
        let issued = login::login(state, &username, &password, address)
            .await
            .extend()?;
        Ok(issued.into())
    }

    /// Exchanges a service account's client id and secret for a short-lived token of its own
    /// (`ttlSeconds` defaults to 300; asking for more than the configured cap is refused).
    #[graphql(directive = public::apply())]
    async fn service_login(
        &self,
        ctx: &Context<'_>,
        client_id: String,
        client_secret: String,
        ttl_seconds: Option<i32>,
    ) -> async_graphql::Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let address = ctx.data_opt::<ClientIp>().map(|client| client.0);
        let lifetime = state
            .sessions
            .service_token_lifetime(ttl_seconds)
            .extend()?;
        let issued = login::service_login(state, &client_id, &client_secret, lifetime, address)
            .await
            .extend()?;
        Ok(issued.into())
    }

    /// Revokes the token that made this request, at once.
    #[graphql(guard = "Authenticated", directive = authenticated::apply())]
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        let session = ctx.data::<RequestAuth>()?.session().extend()?;
        sessions::logout(state, session).await.extend()?;
        Ok(true)
    }

    /// Revokes every live token of a user, on every instance; returns how many were alive.
    #[graphql(
        guard = "RequirePermission(permission::TOKEN_REVOKE)",
        directive = requires::apply(permission::TOKEN_REVOKE.to_owned())
    )]
    async fn revoke_tokens(
        &self,
        ctx: &Context<'_>,
        username: String,
    ) -> async_graphql::Result<i32> {
        let state = ctx.data::<AppState>()?;
        let by = ctx.data::<RequestAuth>()?.principal().extend()?;
        let revoked = sessions::revoke_tokens(state, &username, by)
            .await
            .extend()?;
        Ok(i32::try_from(revoked).unwrap_or(i32::MAX))
    }
}
