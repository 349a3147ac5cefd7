//! Signing and verifying HS256 JWTs, and finding the secret to do it with.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PrincipalKind;
use crate::{config::Config, data_dir};

/// The shortest secret we accept: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;
const SECRET_FILE: &str = "jwt_secret";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's or service account's id.
    pub sub: Uuid,
    /// Token id: the key of the token's liveness record.
    pub jti: Uuid,
    pub kind: PrincipalKind,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        // Only HS256 is accepted: `alg: none` and every other algorithm fail verification.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // Our tokens carry no `nbf`, but one that does and is not yet valid must not pass.
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "jti"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Loads the configured secret, or the one kept in the data directory (creating it on first start).
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose_secret().as_bytes().to_vec(),
            None => load_or_create_secret_file(&config.data_dir.join(SECRET_FILE))?,
        };
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long"
        );
        Ok(Self::from_secret(&secret))
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Checks signature, algorithm and expiry. It says nothing about revocation: that is the store's job.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

impl Claims {
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

fn load_or_create_secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => URL_SAFE_NO_PAD
            .decode(text.trim())
            .with_context(|| format!("{} is not a base64 JWT secret", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create_secret_file(path),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

fn create_secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut secret = vec![0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    data_dir::ensure(&dir)?;
    data_dir::write_new_private(path, URL_SAFE_NO_PAD.encode(&secret).as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_offset: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            sub: Uuid::now_v7(),
            jti: Uuid::now_v7(),
            kind: PrincipalKind::User,
            iat: now,
            exp: now + exp_offset,
        }
    }

    #[test]
    fn a_signed_token_verifies_with_the_same_key_only() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let token = keys.sign(&claims(60)).expect("sign");
        assert!(keys.verify(&token).is_some());
        assert!(JwtKeys::from_secret(&[8; 32]).verify(&token).is_none());
    }

    #[test]
    fn a_token_not_yet_valid_does_not_verify() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let mut claims = serde_json::to_value(claims(60)).expect("claims");
        claims["nbf"] = serde_json::json!(Utc::now().timestamp() + 60);
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&[7; 32]),
        )
        .expect("sign");
        assert!(keys.verify(&token).is_none());
    }

    #[test]
    fn an_expired_token_does_not_verify() {
        let keys = JwtKeys::from_secret(&[7; 32]);
        let token = keys.sign(&claims(-1)).expect("sign");
        assert!(keys.verify(&token).is_none());
    }

    #[test]
    fn the_secret_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("jwt-secret-{}", Uuid::now_v7()));
        let path = dir.join(SECRET_FILE);
        let first = load_or_create_secret_file(&path).expect("create");
        let second = load_or_create_secret_file(&path).expect("read back");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).expect("clean up");
    }
}
