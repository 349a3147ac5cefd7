//! The subscription root, merged from one object per domain. Subscriptions are served over
//! WebSocket (graphql-transport-ws) on /graphql: see `http::websocket`.

mod blacklist;

use async_graphql::MergedSubscription;

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(blacklist::BlacklistSubscription);
