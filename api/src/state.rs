//! AppState: what every request shares, built once at startup.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{password::Passwords, session::Sessions, throttle::LoginThrottle},
    blacklist::{Blacklist, feed::ChangeFeed},
    db::HeldConnections,
    shared_store::ChangeCounter,
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Connections of `db`'s pool held for the point reads every request makes.
    pub point_reads: Arc<HeldConnections>,
    pub sessions: Sessions,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub blacklist: Blacklist,
    /// Tells every instance that the blacklist changed.
    pub changes: Arc<dyn ChangeCounter>,
    /// Committed blacklist changes, for subscribers.
    pub blacklist_feed: ChangeFeed,
}
