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
use super::{Principal, principal::PrincipalUpdate};
use crate::config::Config;
pub use crate::shared_store::{ChangeCounter, StoreError};

/// One login-attempt counter and the most attempts it allows in a window.
#[derive(Debug, Clone, Copy)]
pub struct Bucket<'a> {
    pub key: &'a str,
    pub limit: u64,
}

/// The outcome of reserving a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Every bucket had room and now counts the attempt.
    Reserved,
    /// A bucket is full; nothing was counted. The earliest the fullest one has room again.
    Refused { retry_after: Duration },
}

/// Token liveness, shared by every server instance. Redis in production; in-process for a single
/// embedded instance.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The subject's revocation epoch: every revocation or permission change of the subject
    /// moves it on. A login reads it before it reads the account it issues a token for.
    async fn epoch(&self, subject: Uuid) -> Result<u64, StoreError>;

    /// Records a freshly issued token as live for `idle` and indexes it under its subject (until
    /// `lifetime`, its absolute lifetime, has passed; the oldest entries beyond the per-subject cap
    /// die), all in one atomic step and only if the subject's epoch is still `epoch`: a token whose
    /// account was revoked or changed while it was being issued is never recorded. Returns
    /// whether it was.
    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
        lifetime: Duration,
        epoch: u64,
    ) -> Result<bool, StoreError>;

    /// Returns the token's principal and renews its idle TTL, in one round trip; `None` when it is dead.
    async fn touch(&self, jti: Uuid, idle: Duration) -> Result<Option<Principal>, StoreError>;

    /// Returns the token's principal without renewing anything; `None` when it is dead.
    async fn peek(&self, jti: Uuid) -> Result<Option<Principal>, StoreError>;

    /// Kills a token of `subject` at once and drops it from the subject's index. Returns whether
    /// it was alive.
    async fn remove(&self, jti: Uuid, subject: Uuid) -> Result<bool, StoreError>;

    /// Moves the subject's epoch on and kills every live token of it, in one atomic step.
    /// Returns how many were alive.
    async fn remove_subject(&self, subject: Uuid) -> Result<u64, StoreError>;

    /// Moves the subject's epoch on, then rewrites the principal in every live token of it with
    /// `update`, keeping their TTLs. Returns how many.
    async fn update_subject(
        &self,
        subject: Uuid,
        update: &PrincipalUpdate<'_>,
    ) -> Result<u64, StoreError>;

    /// Whether every process that points at the same configuration reaches this store (Redis),
    /// rather than it living in this process alone.
    fn shared(&self) -> bool;

    /// Checks that the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Login-attempt counters, shared by every instance so the limits hold across them.
#[async_trait::async_trait]
pub trait AttemptCounters: Send + Sync {
    /// Reserves a login attempt in every bucket at once, before any password is checked: when
    /// all have room, each counts one more (a bucket's window starts at its first attempt and
    /// lasts `window`); when one is full, none changes. One atomic step, so parallel attempts
    /// cannot all pass a check made before any of them was counted.
    async fn reserve_attempt(
        &self,
        buckets: &[Bucket<'_>],
        window: Duration,
    ) -> Result<Reservation, StoreError>;

    /// Gives back a reservation whose attempt succeeded (or never ran): `forget` is emptied,
    /// each of `release` counts one attempt fewer.
    async fn release_attempt(&self, forget: &str, release: &[&str]) -> Result<(), StoreError>;
}

/// The shared state, one view per concern: token liveness, login counters and the change
/// counter, all kept by one store.
#[derive(Clone)]
pub struct SharedStores {
    pub tokens: Arc<dyn TokenStore>,
    pub attempts: Arc<dyn AttemptCounters>,
    pub changes: Arc<dyn ChangeCounter>,
}

impl SharedStores {
    fn of<S: TokenStore + AttemptCounters + ChangeCounter + 'static>(store: S) -> Self {
        let store = Arc::new(store);
        Self {
            tokens: store.clone(),
            attempts: store.clone(),
            changes: store,
        }
    }
}

/// Builds the store the configuration asks for: Redis when REDIS_URL is set, else in-process.
pub fn from_config(config: &Config) -> anyhow::Result<SharedStores> {
    match &config.redis_url {
        Some(url) => Ok(SharedStores::of(RedisTokenStore::new(
            url,
            &config.redis_key_prefix,
            config.dependency_timeout(),
            config.tokens_per_subject_max,
        )?)),
        None => {
            tracing::warn!(
                "REDIS_URL is unset: tokens live in this process only, so run a single instance"
            );
            Ok(SharedStores::of(MemoryTokenStore::new(
                config.tokens_per_subject_max,
            )))
        }
    }
}
