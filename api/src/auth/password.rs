//! Password hashing with argon2id, off the async workers and bounded to the core count.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use tokio::sync::Semaphore;

use crate::{config::Config, error::ApiError};

/// The shortest password we let anyone set.
pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Clone)]
pub struct Passwords {
    hasher: Argon2<'static>,
    /// Verified instead of a real hash when the user does not exist, so that an unknown username
    /// costs as much time as a wrong password and timing tells nothing.
    dummy_hash: Arc<str>,
    /// Hashing is deliberately expensive; more at once than there are cores only queues up memory.
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let params = Params::new(
            config.password_hash_memory_kib,
            config.password_hash_iterations,
            config.password_hash_parallelism,
            None,
        )
        .map_err(|error| {
            anyhow::anyhow!(
                "PASSWORD_HASH_MEMORY_KIB / PASSWORD_HASH_ITERATIONS / PASSWORD_HASH_PARALLELISM are invalid: {error}"
            )
        })?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_blocking(&hasher, "dummy password for unknown users")?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            hasher,
            dummy_hash: dummy_hash.into(),
            permits: Arc::new(Semaphore::new(cores)),
        })
    }

    /// Hashes a new password after checking it is long enough.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ApiError::bad_input(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        let hasher = self.hasher.clone();
        let password = password.to_owned();
        self.run_blocking(move || hash_blocking(&hasher, &password))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Whether `password` matches `stored`; with no stored hash it still spends the same time and says no.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ApiError> {
        let hasher = self.hasher.clone();
        let password = password.to_owned();
        let (hash, known) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let matches = self
            .run_blocking(move || {
                PasswordHash::new(&hash).is_ok_and(|parsed| {
                    hasher.verify_password(password.as_bytes(), &parsed).is_ok()
                })
            })
            .await?;
        Ok(known && matches)
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal)
    }
}

fn hash_blocking(hasher: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    Ok(hasher
        .hash_password(password.as_bytes())
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("hashing a password")?
        .to_string())
}
