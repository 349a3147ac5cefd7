//! Password hashing with argon2id on the dedicated hashing threads (see `hash_threads`).

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Block, Params, Version, password_hash::phc::PasswordHash};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::hash_threads::HashThreads;
use crate::{config::Config, error::ApiError};

/// The shortest password we let anyone set.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Far beyond any passphrase; a longer one is a mistake (or a payload), not a password.
pub const MAX_PASSWORD_CHARS: usize = 256;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// Verified instead of a real hash when the user does not exist, so that an unknown username
    /// costs as much time as a wrong password and timing tells nothing.
    dummy_hash: Arc<str>,
    threads: HashThreads,
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
        let dummy_hash = dummy_hash(&params);
        let threads = HashThreads::start(
            config.password_hash_concurrency(),
            params.block_count(),
            config.password_hash_busy_share,
            config.password_hash_queue,
        )
        .map_err(|error| anyhow::anyhow!("starting the password hashing threads: {error}"))?;
        Ok(Self {
            params,
            dummy_hash: dummy_hash.into(),
            threads,
        })
    }

    /// Hashes a new password after checking its length.
    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            return Err(ApiError::bad_input(
                "password",
                format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        let params = self.params.clone();
        let password = password.to_owned();
        self.threads
            .run(move |buffer| hash_with(&params, &password, buffer))
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
            .threads
            .run(move |buffer| verify_with(&password, &hash, buffer))
            .await?;
        Ok(known && matches)
    }
}

/// A well-formed hash of no password at all: verifying anything against it costs exactly what a
/// real hash with the same parameters costs, and nothing can match it.
fn dummy_hash(params: &Params) -> String {
    let mut salt = [0u8; SALT_BYTES];
    let mut output = [0u8; OUTPUT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut output);
    phc_string(params, &salt, &output)
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
    Ok(phc_string(params, &salt, &output))
}

/// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`
fn phc_string(params: &Params, salt: &[u8], output: &[u8]) -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    )
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
    fn the_dummy_hash_costs_a_real_verification_and_matches_nothing() {
        let params = cheap();
        let dummy = dummy_hash(&params);
        let parsed = PasswordHash::new(&dummy).expect("a PHC string");
        assert_eq!(Params::try_from(&parsed).expect("params"), params);
        let mut buffer = Vec::new();
        assert!(!verify_with("", &dummy, &mut buffer));
        assert_eq!(buffer.len(), params.block_count(), "the hash was computed");
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
