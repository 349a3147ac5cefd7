//! Password hashing with argon2id, off the async workers, bounded to the core count, and in a
//! fixed set of reused memory buffers.
//!
//! argon2id's cost is its memory (19 MiB by default). Allocating that per login leaves the
//! allocator holding hundreds of MiB under a login load, so each permitted concurrent hash owns a
//! buffer for as long as the server runs: login memory is bounded by `cores x memory cost`.

use std::sync::{Arc, Mutex};

use argon2::{Algorithm, Argon2, Block, Params, Version, password_hash::phc::PasswordHash};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::{config::Config, error::ApiError};

/// The shortest password we let anyone set.
pub const MIN_PASSWORD_CHARS: usize = 8;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// Verified instead of a real hash when the user does not exist, so that an unknown username
    /// costs as much time as a wrong password and timing tells nothing.
    dummy_hash: Arc<str>,
    /// Hashing is deliberately expensive: at most this many at once (PASSWORD_HASH_CONCURRENCY), so a
    /// login flood cannot take every core from the requests already in flight.
    permits: Arc<Semaphore>,
    /// Idle buffers sized for `params`; at most one per permit exists.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Passwords {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let params = Params::new(
            config.password_hash_memory_kib,
            config.password_hash_iterations,
            config.password_hash_parallelism,
            Some(OUTPUT_BYTES),
        )
        .map_err(|error| {
            anyhow::anyhow!(
                "PASSWORD_HASH_MEMORY_KIB / PASSWORD_HASH_ITERATIONS / PASSWORD_HASH_PARALLELISM are invalid: {error}"
            )
        })?;
        let mut scratch = vec![Block::default(); params.block_count()];
        let dummy_hash = hash_with(&params, "dummy password for unknown users", &mut scratch)?;
        Ok(Self {
            params,
            dummy_hash: dummy_hash.into(),
            permits: Arc::new(Semaphore::new(config.password_hash_concurrency())),
            buffers: Arc::default(),
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
        let params = self.params.clone();
        let password = password.to_owned();
        self.with_buffer(move |buffer| hash_with(&params, &password, buffer))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Whether `password` matches `stored`; with no stored hash it still spends the same time and says no.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ApiError> {
        let password = password.to_owned();
        let (hash, known) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let matches = self
            .with_buffer(move |buffer| verify_with(&password, &hash, buffer))
            .await?;
        Ok(known && matches)
    }

    /// Runs `work` on a blocking thread with one of the reused buffers.
    async fn with_buffer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let blocks = self.params.block_count();
        let mut buffer = self
            .buffers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| vec![Block::default(); blocks]);
        let (result, buffer) = tokio::task::spawn_blocking(move || {
            let result = work(&mut buffer);
            (result, buffer)
        })
        .await
        .map_err(ApiError::internal)?;
        // A buffer grown for an old hash with a higher memory cost is let go rather than kept.
        if buffer.len() == blocks {
            self.buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(buffer);
        }
        Ok(result)
    }
}

/// Hashes into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
fn hash_with(params: &Params, password: &str, buffer: &mut Vec<Block>) -> anyhow::Result<String> {
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let mut output = [0u8; OUTPUT_BYTES];
    fit(buffer, params.block_count());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut output,
            buffer.as_mut_slice(),
        )
        .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    ))
}

/// Recomputes the stored hash's output with its own parameters and compares in constant time.
fn verify_with(password: &str, stored: &str, buffer: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    fit(buffer, params.block_count());
    let mut output = vec![0u8; expected.as_bytes().len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut output,
        buffer.as_mut_slice(),
    );
    hashed.is_ok() && bool::from(output.ct_eq(expected.as_bytes()))
}

/// Makes sure the buffer holds at least `blocks` (only an old, costlier hash needs more).
fn fit(buffer: &mut Vec<Block>, blocks: usize) {
    if buffer.len() < blocks {
        buffer.resize(blocks, Block::default());
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordVerifier;

    use super::*;

    fn cheap() -> Params {
        Params::new(256, 1, 1, Some(OUTPUT_BYTES)).expect("valid params")
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let mut buffer = Vec::new();
        let hash = hash_with(&cheap(), "correct horse", &mut buffer).expect("hash");
        assert!(verify_with("correct horse", &hash, &mut buffer));
        assert!(!verify_with("wrong horse", &hash, &mut buffer));
        assert!(!verify_with(
            "correct horse",
            "not a phc string",
            &mut buffer
        ));
    }

    #[test]
    fn our_phc_strings_are_standard_argon2id() {
        let mut buffer = Vec::new();
        let hash = hash_with(&cheap(), "correct horse", &mut buffer).expect("hash");
        let parsed = PasswordHash::new(&hash).expect("a PHC string");
        assert!(hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{hash}");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_verify_here() {
        use argon2::password_hash::PasswordHasher;
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, cheap())
            .hash_password(b"correct horse")
            .expect("hash")
            .to_string();
        let mut buffer = Vec::new();
        assert!(verify_with("correct horse", &hash, &mut buffer));
    }
}
