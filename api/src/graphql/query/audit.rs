//! Reading the audit log.

use async_graphql::{Context, Object, ResultExt};
use entity::audit_event;

use crate::{
    auth::{guard::RequirePermission, permission},
    db,
    graphql::{
        access::requires,
        types::{
            audit::{AuditEvent, AuditFilter},
            pagination::{PageArgs, PageConnection, connection, page_complexity},
        },
    },
    state::AppState,
};

pub type AuditEventConnection = PageConnection<AuditEvent>;

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Audit events oldest first, as a Relay connection (`first` defaults to 20; at most 100).
    #[graphql(
        guard = "RequirePermission(permission::AUDIT_READ)",
        directive = requires::apply(permission::AUDIT_READ.to_owned()),
        complexity = "page_complexity(first, None, child_complexity)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let state = ctx.data::<AppState>()?;
        let window = PageArgs {
            first,
            after,
            last: None,
            before: None,
        }
        .window()
        .extend()?;
        let filter = filter.unwrap_or_default().parse().extend()?;
        let page = db::audit_log::list(&state.db, &filter, window)
            .await
            .extend()?;
        Ok(connection::<audit_event::Entity, _>(page, AuditEvent))
    }
}
