//! The blacklist as enforced: an in-memory matcher over every entry, rebuilt when the blacklist
//! changes (at once on the instance that changed it, within BLACKLIST_REFRESH_MS on the others).

pub mod matcher;
pub mod watch;

use std::{
    net::IpAddr,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use entity::blacklist_entry;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};

use self::matcher::IpMatcher;
use crate::{auth::session::store_error, error::ApiError, state::AppState};

#[derive(Clone)]
pub struct Blacklist {
    matcher: Arc<RwLock<Arc<IpMatcher>>>,
    /// The shared blacklist version this instance's matcher reflects.
    seen_version: Arc<AtomicU64>,
}

impl Blacklist {
    /// Loads every entry. At startup a failure stops the server: it must not serve unprotected.
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        let blacklist = Self {
            matcher: Arc::default(),
            seen_version: Arc::default(),
        };
        blacklist.reload(db).await?;
        Ok(blacklist)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.current().contains(addr)
    }

    fn current(&self) -> Arc<IpMatcher> {
        self.matcher
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn seen_version(&self) -> u64 {
        self.seen_version.load(Ordering::Acquire)
    }

    /// Rebuilds the matcher from the database.
    pub async fn reload(&self, db: &impl ConnectionTrait) -> Result<(), ApiError> {
        let ips: Vec<String> = blacklist_entry::Entity::find()
            .select_only()
            .column(blacklist_entry::Column::Ip)
            .into_tuple()
            .all(db)
            .await?;
        let matcher = Arc::new(IpMatcher::new(ips.iter().map(String::as_str)));
        *self.matcher.write().unwrap_or_else(|e| e.into_inner()) = matcher;
        Ok(())
    }

    /// Reloads after a reload was announced as `version`.
    pub async fn reload_for(
        &self,
        db: &impl ConnectionTrait,
        version: u64,
    ) -> Result<(), ApiError> {
        self.reload(db).await?;
        self.seen_version.store(version, Ordering::Release);
        Ok(())
    }
}

/// After this instance changed the blacklist: enforce the change here at once, then tell the others.
/// The change is already committed, so a failure to announce it is logged, not returned: the
/// others still pick it up at their next periodic full reload.
pub async fn changed(state: &AppState) -> Result<(), ApiError> {
    state.blacklist.reload(&state.db).await?;
    match state.sessions.store().bump_blacklist_version().await {
        Ok(version) => state
            .blacklist
            .seen_version
            .fetch_max(version, Ordering::AcqRel),
        Err(error) => {
            let error = store_error(error);
            tracing::warn!(%error, "could not announce a blacklist change to other instances");
            0
        }
    };
    Ok(())
}
