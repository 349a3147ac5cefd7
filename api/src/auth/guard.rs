//! Guards: the only place permissions are checked. Each reads the RequestAuth the HTTP layer attached.

use async_graphql::{Context, Guard, ResultExt};

use super::RequestAuth;

/// Lets the field run for any caller with a live token.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        ctx.data::<RequestAuth>()?.principal().map(|_| ()).extend()
    }
}

/// Lets the field run only when the caller's token grants `self.0`.
pub struct RequirePermission(pub &'static str);

impl Guard for RequirePermission {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let auth = ctx.data::<RequestAuth>()?;
        auth.principal()
            .and_then(|principal| principal.require(self.0))
            .map(|_| ())
            .extend()
    }
}
