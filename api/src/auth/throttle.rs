//! Login throttling: too many failures for one name or one address, and further attempts wait.
//!
//! Counted in the token store, so the limit holds across every instance sharing it. Names that do
//! not exist are counted like real ones, so the answer never tells which usernames exist.

use std::{net::IpAddr, sync::Arc, time::Duration};

use super::{liveness::TokenStore, session::store_error};
use crate::{config::Config, error::ApiError};

/// Longest name kept in a counter key; longer ones are cut (they can only be failures anyway).
const MAX_KEY_NAME_CHARS: usize = 128;

#[derive(Clone)]
pub struct LoginThrottle {
    store: Arc<dyn TokenStore>,
    max_failures: u64,
    window: Duration,
}

/// The counters one login attempt touches: its name and, when known, its client address.
pub struct AttemptKeys {
    name: String,
    address: Option<String>,
}

impl AttemptKeys {
    /// `kind` keeps user and service-account names apart (`user`, `service`).
    pub fn new(kind: &str, name: &str, address: Option<IpAddr>) -> Self {
        let name: String = name
            .to_lowercase()
            .chars()
            .take(MAX_KEY_NAME_CHARS)
            .collect();
        Self {
            name: format!("login:{kind}:{name}"),
            address: address.map(|ip| format!("login:ip:{ip}")),
        }
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.address.as_deref())
    }
}

impl LoginThrottle {
    pub fn new(config: &Config, store: Arc<dyn TokenStore>) -> Self {
        Self {
            store,
            max_failures: config.login_max_failures,
            window: config.login_failure_window(),
        }
    }

    /// Refuses the attempt when its name or its address has used up its failures.
    pub async fn check(&self, keys: &AttemptKeys) -> Result<(), ApiError> {
        let mut retry_after = Duration::ZERO;
        for key in keys.all() {
            let failures = self.store.failures(key).await.map_err(store_error)?;
            if failures.count >= self.max_failures {
                retry_after = retry_after.max(failures.resets_in);
            }
        }
        if retry_after.is_zero() {
            Ok(())
        } else {
            Err(ApiError::TooManyRequests {
                retry_after: retry_after.as_secs_f64().ceil() as u64,
            })
        }
    }

    pub async fn record_failure(&self, keys: &AttemptKeys) -> Result<(), ApiError> {
        for key in keys.all() {
            self.store
                .count_failure(key, self.window)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// A success clears its name's counter; the address's counter stays, or one good account
    /// would let an attacker reset it between guesses at others.
    pub async fn record_success(&self, keys: &AttemptKeys) -> Result<(), ApiError> {
        self.store
            .clear_failures(&keys.name)
            .await
            .map_err(store_error)
    }
}
