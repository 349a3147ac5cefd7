//! The Redis token store: liveness shared by every server instance that points at the same Redis.

use std::{future::Future, time::Duration};

use deadpool_redis::{Pool, Runtime, Timeouts, redis};
use uuid::Uuid;

use super::{Failures, StoreError, TokenStore};
use crate::auth::Principal;

pub struct RedisTokenStore {
    pool: Pool,
    prefix: String,
    timeout: Duration,
}

impl RedisTokenStore {
    /// Builds the pool; no connection is made until the first request, so startup does not need Redis up.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> anyhow::Result<Self> {
        let mut config = deadpool_redis::Config::from_url(url);
        let mut pool_config = config.get_pool_config();
        pool_config.timeouts = Timeouts {
            wait: Some(timeout),
            create: Some(timeout),
            recycle: Some(timeout),
        };
        config.pool = Some(pool_config);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|error| anyhow::anyhow!("REDIS_URL is not usable: {error}"))?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            timeout,
        })
    }

    fn token_key(&self, jti: Uuid) -> String {
        format!("{}token:{}", self.prefix, jti.simple())
    }

    fn subject_key(&self, subject: Uuid) -> String {
        format!("{}subject:{}", self.prefix, subject.simple())
    }

    fn failures_key(&self, key: &str) -> String {
        format!("{}failures:{key}", self.prefix)
    }

    fn blacklist_version_key(&self) -> String {
        format!("{}blacklist:version", self.prefix)
    }

    /// Runs one command on a pooled connection, bounded by the dependency timeout: a stalled
    /// Redis must turn into SERVICE_UNAVAILABLE promptly, never into a request that hangs.
    async fn run<T, F, Fut>(&self, command: F) -> Result<T, StoreError>
    where
        F: FnOnce(deadpool_redis::Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let work = async {
            let connection = self
                .pool
                .get()
                .await
                .map_err(|error| StoreError::Unavailable(error.to_string()))?;
            command(connection)
                .await
                .map_err(|error| StoreError::Unavailable(error.to_string()))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| StoreError::Unavailable("timed out".to_owned()))?
    }
}

fn ttl_secs(duration: Duration) -> u64 {
    duration.as_secs().max(1)
}

fn failures_from(count: Option<u64>, pttl_ms: i64) -> Failures {
    match count {
        Some(count) if pttl_ms > 0 => Failures {
            count,
            resets_in: Duration::from_millis(pttl_ms.unsigned_abs()),
        },
        _ => Failures {
            count: 0,
            resets_in: Duration::ZERO,
        },
    }
}

/// Deletes every token of a subject and its index in one atomic step, so a token issued
/// meanwhile cannot slip between reading the index and deleting it.
const REMOVE_SUBJECT: &str = r"
local jtis = redis.call('SMEMBERS', KEYS[1])
local alive = 0
for _, jti in ipairs(jtis) do
    alive = alive + redis.call('DEL', ARGV[1] .. jti)
end
redis.call('DEL', KEYS[1])
return alive
";

#[async_trait::async_trait]
impl TokenStore for RedisTokenStore {
    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let record = serde_json::to_string(principal)?;
        let token_key = self.token_key(jti);
        let subject_key = self.subject_key(principal.subject_id);
        let lifetime = ttl_secs(lifetime);
        self.run(|mut conn| async move {
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&token_key)
                .arg(record)
                .arg("EX")
                .arg(ttl_secs(idle))
                .ignore()
                .cmd("SADD")
                .arg(&subject_key)
                .arg(jti.simple().to_string())
                .ignore()
                // The index lives as long as the longest-lived token in it.
                .cmd("EXPIRE")
                .arg(&subject_key)
                .arg(lifetime)
                .arg("NX")
                .ignore()
                .cmd("EXPIRE")
                .arg(&subject_key)
                .arg(lifetime)
                .arg("GT")
                .ignore()
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    async fn touch(&self, jti: Uuid, idle: Duration) -> Result<Option<Principal>, StoreError> {
        let key = self.token_key(jti);
        let record: Option<String> = self
            .run(|mut conn| async move {
                redis::cmd("GETEX")
                    .arg(key)
                    .arg("EX")
                    .arg(ttl_secs(idle))
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(record.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    async fn remove(&self, jti: Uuid) -> Result<bool, StoreError> {
        let key = self.token_key(jti);
        let removed: u64 = self
            .run(|mut conn| async move { redis::cmd("DEL").arg(key).query_async(&mut conn).await })
            .await?;
        Ok(removed > 0)
    }

    async fn remove_subject(&self, subject: Uuid) -> Result<u64, StoreError> {
        let subject_key = self.subject_key(subject);
        let token_prefix = format!("{}token:", self.prefix);
        self.run(|mut conn| async move {
            redis::cmd("EVAL")
                .arg(REMOVE_SUBJECT)
                .arg(1)
                .arg(subject_key)
                .arg(token_prefix)
                .query_async(&mut conn)
                .await
        })
        .await
    }

    async fn set_subject_permissions(
        &self,
        subject: Uuid,
        permissions: &[String],
    ) -> Result<u64, StoreError> {
        let subject_key = self.subject_key(subject);
        let jtis: Vec<String> = self
            .run(|mut conn| async move {
                redis::cmd("SMEMBERS")
                    .arg(subject_key)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        let mut updated = 0;
        for jti in jtis {
            let key = format!("{}token:{jti}", self.prefix);
            let read_key = key.clone();
            let record: Option<String> = self
                .run(|mut conn| async move {
                    redis::cmd("GET").arg(read_key).query_async(&mut conn).await
                })
                .await?;
            let Some(record) = record else { continue };
            let mut principal: Principal = serde_json::from_str(&record)?;
            principal.permissions = permissions.to_vec();
            let record = serde_json::to_string(&principal)?;
            // XX: a token that died meanwhile stays dead; KEEPTTL: its idle clock is not reset.
            let written: Option<String> = self
                .run(|mut conn| async move {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(record)
                        .arg("XX")
                        .arg("KEEPTTL")
                        .query_async(&mut conn)
                        .await
                })
                .await?;
            updated += u64::from(written.is_some());
        }
        Ok(updated)
    }

    async fn count_failure(&self, key: &str, window: Duration) -> Result<Failures, StoreError> {
        let key = self.failures_key(key);
        let (count, pttl): (u64, i64) = self
            .run(|mut conn| async move {
                redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&key)
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
                    .arg("NX")
                    .ignore()
                    .cmd("PTTL")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(failures_from(Some(count), pttl))
    }

    async fn failures(&self, key: &str) -> Result<Failures, StoreError> {
        let key = self.failures_key(key);
        let (count, pttl): (Option<u64>, i64) = self
            .run(|mut conn| async move {
                redis::pipe()
                    .cmd("GET")
                    .arg(&key)
                    .cmd("PTTL")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(failures_from(count, pttl))
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        let key = self.failures_key(key);
        self.run(|mut conn| async move {
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    async fn blacklist_version(&self) -> Result<u64, StoreError> {
        let key = self.blacklist_version_key();
        let version: Option<u64> = self
            .run(|mut conn| async move { redis::cmd("GET").arg(key).query_async(&mut conn).await })
            .await?;
        Ok(version.unwrap_or(0))
    }

    async fn bump_blacklist_version(&self) -> Result<u64, StoreError> {
        let key = self.blacklist_version_key();
        self.run(|mut conn| async move { redis::cmd("INCR").arg(key).query_async(&mut conn).await })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(
            |mut conn| async move { redis::cmd("PING").query_async::<String>(&mut conn).await },
        )
        .await
        .map(|_| ())
    }
}
