//! Reading the blacklist.

use async_graphql::{Context, ID, Object, ResultExt};

use entity::blacklist_entry;

use crate::{
    auth::{RequestAuth, guard::RequirePermission, permission},
    db::{self, data_scope::Reach},
    graphql::{
        access::requires,
        types::{
            blacklist::{BlacklistEntry, BlacklistFilter, parse_address},
            input::parse_id,
            pagination::{PageArgs, PageConnection, connection, page_complexity},
        },
    },
    state::AppState,
};

pub type BlacklistEntryConnection = PageConnection<BlacklistEntry>;

#[derive(Default)]
pub struct BlacklistQuery;

#[Object]
impl BlacklistQuery {
    /// One entry by id; null when there is none within the caller's data scope.
    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_READ)",
        directive = requires::apply(permission::BLACKLIST_READ.to_owned())
    )]
    async fn blacklist_entry(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<BlacklistEntry>> {
        let state = ctx.data::<AppState>()?;
        let reach = reach(ctx)?;
        let id = parse_id(&id).extend()?;
        Ok(db::blacklist::find_one(&state.point_reads, id, &reach)
            .await
            .extend()?
            .map(BlacklistEntry))
    }

    /// Whether requests from this address are refused, answered by the same matcher that refuses them
    /// (for every organisation's entries: they block for everyone, whoever may read them).
    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_READ)",
        directive = requires::apply(permission::BLACKLIST_READ.to_owned())
    )]
    async fn is_blocked(&self, ctx: &Context<'_>, ip: String) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        let addr = parse_address(&ip).extend()?;
        Ok(state.blacklist.contains(addr))
    }

    /// Entries within the caller's data scope, oldest first, as a Relay connection (`first` defaults to 20; at most 100 per page).
    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_READ)",
        directive = requires::apply(permission::BLACKLIST_READ.to_owned()),
        complexity = "page_complexity(first, last, child_complexity)"
    )]
    async fn blacklist_entries(
        &self,
        ctx: &Context<'_>,
        filter: Option<BlacklistFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<BlacklistEntryConnection> {
        let state = ctx.data::<AppState>()?;
        let window = PageArgs {
            first,
            after,
            last,
            before,
        }
        .window()
        .extend()?;
        let filter = filter.unwrap_or_default().parse().extend()?;
        let page = db::blacklist::list(&state.db, &reach(ctx)?, &filter, window)
            .await
            .extend()?;
        Ok(connection::<blacklist_entry::Entity, _>(
            page,
            BlacklistEntry,
        ))
    }
}

/// Which entries the caller reads: its data scope for `blacklist:read`.
fn reach(ctx: &Context<'_>) -> async_graphql::Result<Reach> {
    let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
    Ok(principal.reach(permission::BLACKLIST_READ))
}
