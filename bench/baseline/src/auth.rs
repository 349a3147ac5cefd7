//! The token check the server does per request: HS256 verify, then one Redis GETEX that proves the
//! token alive, renews its idle TTL and returns the principal stored at login.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use deadpool_redis::{Pool, Runtime, redis};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;

use crate::config::Config;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Uuid,
    jti: Uuid,
}

/// The principal record the server keeps in Redis (all of it is read, as the server reads it).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    pub subject_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub kind: String,
    pub permissions: Vec<String>,
    pub org_code: Option<String>,
    pub company_code: Option<String>,
}

impl Principal {
    /// Exact, `resource:*` or `*`, as the server's permission check.
    pub fn has_permission(&self, required: &str) -> bool {
        self.permissions.iter().any(|granted| {
            granted == "*"
                || granted == required
                || granted
                    .strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with(':') && required.starts_with(prefix))
        })
    }
}

pub struct Tokens {
    decoding: DecodingKey,
    validation: Validation,
    redis: Pool,
    prefix: String,
    idle_ttl_secs: u64,
}

impl Tokens {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "jti"]);
        let redis = deadpool_redis::Config::from_url(&config.redis_url)
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|error| anyhow::anyhow!("REDIS_URL is not usable: {error}"))?;
        Ok(Self {
            decoding: DecodingKey::from_secret(config.jwt_secret.expose_secret().as_bytes()),
            validation,
            redis,
            prefix: config.redis_key_prefix.clone(),
            idle_ttl_secs: config.token_idle_ttl_secs.max(1),
        })
    }

    /// The caller's principal, or `None` when there is no live, valid bearer token.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Option<Principal> {
        let token = headers
            .get(AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim();
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let key = format!("{}token:{}", self.prefix, claims.jti.simple());
        let record = match self.touch(key).await {
            Ok(record) => record?,
            Err(error) => {
                tracing::warn!(%error, "redis unavailable while authenticating");
                return None;
            }
        };
        let principal: Principal = match serde_json::from_str(&record) {
            Ok(principal) => principal,
            Err(error) => {
                tracing::warn!(%error, "corrupt liveness record");
                return None;
            }
        };
        (principal.subject_id == claims.sub).then_some(principal)
    }

    async fn touch(&self, key: String) -> anyhow::Result<Option<String>> {
        let mut conn = self.redis.get().await?;
        Ok(redis::cmd("GETEX")
            .arg(key)
            .arg("EX")
            .arg(self.idle_ttl_secs)
            .query_async(&mut conn)
            .await?)
    }
}
