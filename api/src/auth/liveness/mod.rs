//! Token liveness: a verified JWT is honoured only while its record lives in a [`TokenStore`].
//!
//! JWTs are stateless, so without this record logout and revocation could not work: the store
//! is the single place that says a token is still alive, and it also carries the principal so
//! that a request needs exactly one store round trip and no database query to know its caller.

mod memory;
mod redis;

use std::{sync::Arc, time::Duration};

use uuid::Uuid;

pub use self::{memory::MemoryTokenStore, redis::RedisTokenStore};
use super::Principal;
use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached in time; callers must fail closed.
    #[error("token store unavailable: {0}")]
    Unavailable(String),
    #[error("token store record is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// A failure counter: how many failures in the current window, and how long the window still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u64,
    pub resets_in: Duration,
}

/// The state that must be shared by every server instance: token liveness, failure counters and
/// the blacklist's version. Redis in production; in-process for a single embedded instance.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Records a freshly issued token as live for `idle`, and indexes it under its subject
    /// (kept for `lifetime`, the token's absolute lifetime) so all of a subject's tokens can be found.
    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
        lifetime: Duration,
    ) -> Result<(), StoreError>;

    /// Returns the token's principal and renews its idle TTL, in one round trip; `None` when it is dead.
    async fn touch(&self, jti: Uuid, idle: Duration) -> Result<Option<Principal>, StoreError>;

    /// Kills a token at once. Returns whether it was alive.
    async fn remove(&self, jti: Uuid) -> Result<bool, StoreError>;

    /// Kills every live token of a subject. Returns how many were alive.
    async fn remove_subject(&self, subject: Uuid) -> Result<u64, StoreError>;

    /// Replaces the permissions in every live token of a subject, keeping their TTLs. Returns how many.
    async fn set_subject_permissions(
        &self,
        subject: Uuid,
        permissions: &[String],
    ) -> Result<u64, StoreError>;

    /// Counts one failure under `key`; the window starts at the first failure and lasts `window`.
    async fn count_failure(&self, key: &str, window: Duration) -> Result<Failures, StoreError>;

    /// The failures counted under `key` in the current window.
    async fn failures(&self, key: &str) -> Result<Failures, StoreError>;

    /// Forgets the failures under `key`.
    async fn clear_failures(&self, key: &str) -> Result<(), StoreError>;

    /// The blacklist's change counter, shared by every instance.
    async fn blacklist_version(&self) -> Result<u64, StoreError>;

    /// Announces a blacklist change to every instance. Returns the new version.
    async fn bump_blacklist_version(&self) -> Result<u64, StoreError>;

    /// Checks that the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Builds the store the configuration asks for: Redis when REDIS_URL is set, else in-process.
pub fn from_config(config: &Config) -> anyhow::Result<Arc<dyn TokenStore>> {
    match &config.redis_url {
        Some(url) => Ok(Arc::new(RedisTokenStore::new(
            url,
            &config.redis_key_prefix,
            config.dependency_timeout(),
        )?)),
        None => {
            tracing::warn!(
                "REDIS_URL is unset: tokens live in this process only, so run a single instance"
            );
            Ok(Arc::new(MemoryTokenStore::default()))
        }
    }
}
