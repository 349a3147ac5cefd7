//! Following the blacklist as it changes.

use std::sync::Arc;

use async_graphql::{Context, ResultExt, Subscription};
use futures_util::{Stream, StreamExt, future::ready, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::{
    auth::{RequestAuth, guard::RequirePermission, permission},
    blacklist::feed::ChangeEvent,
    graphql::{access::requires, types::blacklist::BlacklistChange},
    state::AppState,
};

#[derive(Default)]
pub struct BlacklistSubscription;

#[Subscription]
impl BlacklistSubscription {
    /// Every blacklist change committed from now on, on any instance, to an entry within the
    /// caller's data scope. The socket closes with 4403 once the token is logged out, revoked or
    /// expired, or loses `blacklist:read` or any of its reach.
    #[graphql(
        guard = "RequirePermission(permission::BLACKLIST_READ)",
        directive = requires::apply(permission::BLACKLIST_READ.to_owned())
    )]
    async fn blacklist_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = BlacklistChange>> {
        let principal = ctx.data::<RequestAuth>()?.principal().extend()?;
        let reach = principal.reach(permission::BLACKLIST_READ);
        let changes = ctx.data::<AppState>()?.blacklist_feed.subscribe();
        Ok(follow(changes)
            .filter(move |change| ready(reach.contains(change.0.entry.org_code.as_deref()))))
    }
}

/// The events as they come. A subscriber that fell a whole backlog behind is ended (the client
/// gets `complete` and may subscribe again) rather than buffered without bound.
fn follow(changes: Receiver<Arc<ChangeEvent>>) -> impl Stream<Item = BlacklistChange> {
    stream::unfold(changes, |mut changes| async move {
        match changes.recv().await {
            Ok(event) => Some((BlacklistChange(event), changes)),
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "a blacklist subscriber fell behind; ending its subscription"
                );
                None
            }
            Err(RecvError::Closed) => None,
        }
    })
}
