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

#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Records a freshly issued token as live for `idle`.
    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
    ) -> Result<(), StoreError>;

    /// Returns the token's principal and renews its idle TTL, in one round trip; `None` when it is dead.
    async fn touch(&self, jti: Uuid, idle: Duration) -> Result<Option<Principal>, StoreError>;

    /// Kills a token at once. Returns whether it was alive.
    async fn remove(&self, jti: Uuid) -> Result<bool, StoreError>;

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
