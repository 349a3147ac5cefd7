//! Logging in and out.

use async_graphql::{Context, Object, ResultExt};

use crate::{
    auth::{RequestAuth, guard::Authenticated, login},
    graphql::types::auth::AuthPayload,
    state::AppState,
};

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Exchanges a username and password for a token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let (issued, principal) = login::login(state, &username, &password).await.extend()?;
        Ok(AuthPayload {
            token: issued.token,
            expires_at: issued.expires_at,
            principal,
        })
    }

    /// Revokes the token that made this request, at once.
    #[graphql(guard = "Authenticated")]
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        let session = ctx.data::<RequestAuth>()?.session().extend()?;
        state.sessions.revoke(session.jti).await.extend()?;
        Ok(true)
    }
}
