//! The blacklist change feed: every committed change, with its entry, handed to the subscribers
//! of every instance: through Redis pub/sub when REDIS_URL is set, else within this process.

mod redis;

use std::sync::Arc;

use async_graphql::Enum;
use entity::blacklist_entry::Model;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use self::redis::RedisChannel;
use crate::config::Config;

/// How many events a subscriber may fall behind before its subscription is ended: a slow
/// client costs at most this many queued events, never unbounded memory.
const BACKLOG: usize = 256;

/// What a change did to its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[graphql(name = "BlacklistChangeKind")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

/// One committed change: the entry as it is now, or as it was for a deletion.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub kind: ChangeKind,
    pub entry: Model,
}

#[derive(Clone)]
pub struct ChangeFeed {
    /// What this instance's subscribers receive.
    local: broadcast::Sender<Arc<ChangeEvent>>,
    /// With Redis, events go there and come back to every instance (this one included) through
    /// the listener, so all subscribers see them in one order.
    shared: Option<Arc<RedisChannel>>,
}

impl ChangeFeed {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let shared = match &config.redis_url {
            Some(url) => Some(Arc::new(RedisChannel::new(
                url,
                &config.redis_key_prefix,
                config.dependency_timeout(),
            )?)),
            None => None,
        };
        Ok(Self {
            local: broadcast::channel(BACKLOG).0,
            shared,
        })
    }

    /// Starts listening to the other instances (with Redis), having waited for the first
    /// subscription within the dependency timeout, so that a server that is up hears every event
    /// published after it started. A Redis that is down is retried in the background.
    pub async fn start(&self) {
        if let Some(shared) = &self.shared {
            Arc::clone(shared).listen(self.local.clone()).await;
        }
    }

    /// Announces a committed change. Delivery is best effort: the change is in the database
    /// whatever happens here, so a failure is logged, not returned.
    pub async fn publish(&self, event: ChangeEvent) {
        match &self.shared {
            Some(shared) => shared.publish(&event).await,
            // No receiver is no error: nobody is subscribed.
            None => {
                let _ = self.local.send(Arc::new(event));
            }
        }
    }

    /// The changes announced from now on. A receiver more than the backlog behind gets
    /// `RecvError::Lagged`, on which its subscription ends.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.local.subscribe()
    }
}
