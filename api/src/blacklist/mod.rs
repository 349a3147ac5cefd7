//! The blacklist as enforced: an in-memory matcher over every entry, rebuilt when the blacklist
//! changes (at once on the instance that changed it, within BLACKLIST_REFRESH_MS on the others).

pub mod feed;
pub mod matcher;

use std::{
    net::IpAddr,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use entity::blacklist_entry::{self, Model};
use futures_util::TryStreamExt;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};

use self::{
    feed::{ChangeEvent, ChangeKind},
    matcher::{IpMatcher, MatcherBuilder},
};
use crate::{db, error::ApiError};

#[derive(Clone)]
pub struct Blacklist {
    /// Read on every request and changed in place, under a lock held only for the lookup or the edit.
    matcher: Arc<RwLock<IpMatcher>>,
    /// The shared blacklist version this instance's matcher reflects.
    seen_version: Arc<AtomicU64>,
    /// Counts local changes, so a full reload that read the database before one of them does not
    /// overwrite it with the older list.
    local_changes: Arc<AtomicU64>,
    /// Held from re-reading the entries a change touched until the matcher holds what was read,
    /// so that of two overlapping changes the later read is also the one applied last.
    follow_order: Arc<tokio::sync::Mutex<()>>,
}

/// What one committed blacklist mutation on this instance did: the canonical entries it removed
/// and added, for the matcher, and the event for subscribers.
pub struct Change {
    removed: Option<String>,
    added: Option<String>,
    event: ChangeEvent,
}

impl Change {
    /// What subscribers are told of the change.
    pub fn into_event(self) -> ChangeEvent {
        self.event
    }

    pub fn created(entry: Model) -> Self {
        Self {
            removed: None,
            added: Some(entry.ip.clone()),
            event: ChangeEvent {
                kind: ChangeKind::Created,
                entry,
            },
        }
    }

    pub fn updated(previous_ip: String, entry: Model) -> Self {
        Self {
            removed: Some(previous_ip),
            added: Some(entry.ip.clone()),
            event: ChangeEvent {
                kind: ChangeKind::Updated,
                entry,
            },
        }
    }

    /// `entry` as it was before the deletion.
    pub fn deleted(entry: Model) -> Self {
        Self {
            removed: Some(entry.ip.clone()),
            added: None,
            event: ChangeEvent {
                kind: ChangeKind::Deleted,
                entry,
            },
        }
    }

    fn touched(&self) -> Vec<&str> {
        self.removed
            .iter()
            .chain(self.added.iter())
            .map(String::as_str)
            .collect()
    }
}

impl Blacklist {
    /// Loads every entry. At startup a failure stops the server: it must not serve unprotected.
    pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Self> {
        let blacklist = Self {
            matcher: Arc::default(),
            seen_version: Arc::default(),
            local_changes: Arc::default(),
            follow_order: Arc::default(),
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

    /// Makes the matcher hold, for every address a committed change touched, what the database
    /// holds now, without reading the whole list again.
    ///
    /// Not what the request asked for: concurrent changes of one entry commit in an order no
    /// request knows, and applying each request's own view left addresses blocked that no entry
    /// held. Each re-read starts after its change committed and, under `follow_order`, after the
    /// previous re-read was applied; so the last one applied for an address read it after every
    /// commit that touched it, and the matcher ends equal to a fresh load.
    pub async fn follow(&self, db: &DatabaseConnection, change: &Change) {
        let touched = change.touched();
        let _order = self.follow_order.lock().await;
        let held = match db::blacklist::held(db, &touched).await {
            Ok(held) => held,
            Err(error) => {
                // Enforce what this request committed rather than nothing; the next full reload
                // (at the latest FULL_RELOAD_EVERY) settles any overlap with other changes.
                tracing::warn!(%error, "could not re-read changed blacklist entries; applying the change as made");
                self.edit(|matcher| {
                    matcher.change(change.removed.as_deref(), change.added.as_deref());
                });
                return;
            }
        };
        self.edit(|matcher| {
            for ip in &touched {
                if held.iter().any(|entry| entry == ip) {
                    matcher.change(None, Some(ip));
                } else {
                    matcher.change(Some(ip), None);
                }
            }
        });
    }

    fn edit(&self, edit: impl FnOnce(&mut IpMatcher)) {
        let mut current = self.matcher.write().unwrap_or_else(|e| e.into_inner());
        edit(&mut current);
        self.local_changes.fetch_add(1, Ordering::AcqRel);
    }

    /// This instance announced a change as `version`. Its own announcement needs no reload here;
    /// anyone else's in between still triggers one, because the watcher compares against the
    /// exact version it saw last.
    pub fn announced(&self, version: u64) {
        if version == self.seen_version() + 1 {
            self.seen_version.store(version, Ordering::Release);
        }
    }
}
