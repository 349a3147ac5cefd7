//! The Redis token store: liveness shared by every server instance that points at the same Redis.

use std::{future::Future, time::Duration};

use deadpool_redis::{Pool, Runtime, Timeouts, redis};
use uuid::Uuid;

use super::{StoreError, TokenStore};
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

    fn key(&self, jti: Uuid) -> String {
        format!("{}token:{}", self.prefix, jti.simple())
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

fn ttl_secs(idle: Duration) -> u64 {
    idle.as_secs().max(1)
}

#[async_trait::async_trait]
impl TokenStore for RedisTokenStore {
    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
    ) -> Result<(), StoreError> {
        let record = serde_json::to_string(principal)?;
        let key = self.key(jti);
        self.run(|mut conn| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(record)
                .arg("EX")
                .arg(ttl_secs(idle))
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    async fn touch(&self, jti: Uuid, idle: Duration) -> Result<Option<Principal>, StoreError> {
        let key = self.key(jti);
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
        let key = self.key(jti);
        let removed: u64 = self
            .run(|mut conn| async move { redis::cmd("DEL").arg(key).query_async(&mut conn).await })
            .await?;
        Ok(removed > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(
            |mut conn| async move { redis::cmd("PING").query_async::<String>(&mut conn).await },
        )
        .await
        .map(|_| ())
    }
}
