//! AppState: what every request shares, built once at startup.

use sea_orm::DatabaseConnection;

use crate::{
    auth::{password::Passwords, session::Sessions, throttle::LoginThrottle},
    blacklist::{Blacklist, feed::ChangeFeed},
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub sessions: Sessions,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub blacklist: Blacklist,
    /// Committed blacklist changes, for subscribers.
    pub blacklist_feed: ChangeFeed,
}
