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
use futures_util::TryStreamExt;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};

use self::matcher::{IpMatcher, MatcherBuilder};
use crate::{auth::session::store_error, error::ApiError, state::AppState};

#[derive(Clone)]
pub struct Blacklist {
    /// Read on every request and changed in place, under a lock held only for the lookup or the edit.
    matcher: Arc<RwLock<IpMatcher>>,
    /// The shared blacklist version this instance's matcher reflects.
    seen_version: Arc<AtomicU64>,
    /// Counts local changes, so a full reload that read the database before one of them does not
    /// overwrite it with the older list.
    local_changes: Arc<AtomicU64>,
}

/// What one blacklist mutation on this instance did, in canonical entries.
pub struct Change<'a> {
    pub removed: Option<&'a str>,
    pub added: Option<&'a str>,
}

impl Blacklist {
    /// Loads every entry. At startup a failure stops the server: it must not serve unprotected.
    pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Self> {
        let blacklist = Self {
            matcher: Arc::default(),
            seen_version: Arc::default(),
            local_changes: Arc::default(),
        };
        blacklist.reload(db).await?;
        Ok(blacklist)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.matcher
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(addr)
    }

    pub fn seen_version(&self) -> u64 {
        self.seen_version.load(Ordering::Acquire)
    }

    /// Rebuilds the matcher from the database. Returns false, changing nothing, when a local change
    /// landed meanwhile (the caller then tries again later).
    pub async fn reload(&self, db: &DatabaseConnection) -> Result<bool, ApiError> {
        let changes_before = self.local_changes.load(Ordering::Acquire);
        // Streamed: with tens of thousands of entries, collecting them first cost ~12 MiB at every reload.
        let mut ips = blacklist_entry::Entity::find()
            .select_only()
            .column(blacklist_entry::Column::Ip)
            .into_tuple::<String>()
            .stream(db)
            .await?;
        let mut builder = MatcherBuilder::default();
        while let Some(ip) = ips.try_next().await? {
            builder.add(&ip);
        }
        drop(ips);
        let matcher = builder.build();
        let mut current = self.matcher.write().unwrap_or_else(|e| e.into_inner());
        if self.local_changes.load(Ordering::Acquire) != changes_before {
            return Ok(false);
        }
        *current = matcher;
        Ok(true)
    }

    /// Reloads after a reload was announced as `version`.
    pub async fn reload_for(&self, db: &DatabaseConnection, version: u64) -> Result<(), ApiError> {
        if self.reload(db).await? {
            self.seen_version.store(version, Ordering::Release);
        }
        Ok(())
    }

    /// Applies one committed change without reading the whole list again.
    fn apply(&self, change: &Change<'_>) {
        let mut current = self.matcher.write().unwrap_or_else(|e| e.into_inner());
        current.change(change.removed, change.added);
        self.local_changes.fetch_add(1, Ordering::AcqRel);
    }
}

/// After this instance changed the blacklist: enforce the change here at once, then tell the others.
/// The change is already committed, so a failure to announce it is logged, not returned: the
/// others still pick it up at their next periodic full reload.
pub async fn changed(state: &AppState, change: Change<'_>) {
    state.blacklist.apply(&change);
    match state.sessions.store().bump_blacklist_version().await {
        // Our own announcement needs no reload here; anyone else's in between still triggers one,
        // because the watcher compares against the exact version it saw last.
        Ok(version) if version == state.blacklist.seen_version() + 1 => {
            state
                .blacklist
                .seen_version
                .store(version, Ordering::Release);
        }
        Ok(_) => {}
        Err(error) => {
            let error = store_error(error);
            tracing::warn!(%error, "could not announce a blacklist change to other instances");
        }
    }
}
