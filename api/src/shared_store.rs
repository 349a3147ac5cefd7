//! What every layer may say of the state shared by all instances (Redis, or this process alone):
//! how it fails, and the change counter that tells instances a resource changed elsewhere.
//! Token liveness and login counters are the auth layer's (`auth::liveness`).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached in time; callers must fail closed.
    #[error("token store unavailable: {0}")]
    Unavailable(String),
    #[error("token store record is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// The blacklist's change counter, shared by every instance: each change moves it on, and an
/// instance that sees it move reloads what it holds in memory.
#[async_trait::async_trait]
pub trait ChangeCounter: Send + Sync {
    async fn blacklist_version(&self) -> Result<u64, StoreError>;

    /// Announces a blacklist change to every instance. Returns the new version.
    async fn bump_blacklist_version(&self) -> Result<u64, StoreError>;
}
