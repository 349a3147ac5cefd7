//! Guards: the only place permissions are checked. Each reads the RequestAuth the HTTP layer attached.

use async_graphql::{Context, Guard, ResultExt};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::RequestAuth;
use crate::{
    db::audit_log::{self, Event},
    error::ApiError,
};

/// Lets the field run for any caller with a live token.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        ctx.data::<RequestAuth>()?.principal().map(|_| ()).extend()
    }
}

/// Lets the field run only when the caller's token grants `self.0`. A caller refused for
/// lacking it is recorded in the audit log (an anonymous one is not: it proved nothing).
pub struct RequirePermission(pub &'static str);

impl Guard for RequirePermission {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let Err(denied) = principal.require(self.0) else {
            return Ok(());
        };
        let by = principal.audit();
        let event = Event::new("permission.denied", Some(&by)).detail(json!({
            "permission": self.0,
            "field": ctx.item.node.name.node.as_str(),
        }));
        let db = ctx.data::<DatabaseConnection>()?;
        audit_log::record(db, event).await.extend()?;
        Err::<(), ApiError>(denied).extend()
    }
}
