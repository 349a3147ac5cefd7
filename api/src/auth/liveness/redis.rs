//! The Redis token store: liveness shared by every server instance that points at the same Redis.

use std::{future::Future, time::Duration};

use redis::{RedisResult, aio::ConnectionManager};
use uuid::Uuid;

use super::{AttemptCounters, Bucket, ChangeCounter, Reservation, StoreError, TokenStore};
use crate::{
    auth::{Principal, principal::PrincipalUpdate},
    shared_redis::SharedRedis,
};

pub struct RedisTokenStore {
    redis: SharedRedis,
    prefix: String,
    tokens_per_subject: usize,
}

impl RedisTokenStore {
    /// Connects to nothing yet: the first request connects, so startup does not need Redis up.
    pub fn new(
        url: &str,
        prefix: &str,
        timeout: Duration,
        tokens_per_subject: usize,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            redis: SharedRedis::new(url, timeout)?,
            prefix: prefix.to_owned(),
            tokens_per_subject: tokens_per_subject.max(1),
        })
    }

    fn token_key(&self, jti: Uuid) -> String {
        format!("{}token:{}", self.prefix, jti.simple())
    }

    fn token_prefix(&self) -> String {
        format!("{}token:", self.prefix)
    }

    /// A sorted set of the subject's tokens, scored by their absolute expiry (ms since 1970).
    fn subject_key(&self, subject: Uuid) -> String {
        format!("{}subject-tokens:{}", self.prefix, subject.simple())
    }

    fn epoch_key(&self, subject: Uuid) -> String {
        format!("{}epoch:{}", self.prefix, subject.simple())
    }

    fn failures_key(&self, key: &str) -> String {
        format!("{}failures:{key}", self.prefix)
    }

    fn blacklist_version_key(&self) -> String {
        format!("{}blacklist:version", self.prefix)
    }

    /// Runs one command; a Redis that cannot answer in time is a store that is unavailable.
    async fn run<T, F, Fut>(&self, command: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        self.redis
            .run(command)
            .await
            .map_err(|error| StoreError::Unavailable(error.to_string()))
    }
}

fn ttl_secs(duration: Duration) -> u64 {
    duration.as_secs().max(1)
}

/// Reserves a login attempt in every bucket (KEYS) or in none: ARGV[1] is the window in
/// milliseconds, ARGV[1 + i] the limit of KEYS[i]. Returns 0 when reserved, else the milliseconds
/// until the fullest bucket has room again.
const RESERVE_ATTEMPT: &str = r"
local retry = 0
for i, key in ipairs(KEYS) do
    local count = tonumber(redis.call('GET', key) or '0')
    if count >= tonumber(ARGV[i + 1]) then
        local ttl = redis.call('PTTL', key)
        if ttl < 1 then ttl = tonumber(ARGV[1]) end
        if ttl > retry then retry = ttl end
    end
end
if retry > 0 then return retry end
for _, key in ipairs(KEYS) do
    redis.call('INCR', key)
    redis.call('PEXPIRE', key, ARGV[1], 'NX')
end
return 0
";

/// Gives back a reservation: KEYS[1] is forgotten, every other key counts one attempt fewer
/// (a key that has expired meanwhile is not brought back).
const RELEASE_ATTEMPT: &str = r"
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
    if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
        redis.call('DECR', KEYS[i])
    end
end
return 0
";

/// How long a subject's epoch is kept after its last change: far longer than any login takes.
const EPOCH_KEPT_SECS: u64 = 24 * 60 * 60;

/// Records a token if its subject's epoch is unchanged. KEYS: token, subject index, epoch.
/// ARGV: record, idle TTL (s), jti, expected epoch, absolute expiry (ms), now (ms), cap, token
/// key prefix. Entries whose absolute expiry has passed leave the index; beyond the cap the
/// oldest tokens die. Returns 1 when recorded, 0 when the epoch had moved on.
const INSERT: &str = r"
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[7])
if excess > 0 then
    for _, jti in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
        redis.call('DEL', ARGV[8] .. jti)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
";

/// Moves a subject's epoch on and deletes every token of it with its index, in one atomic step,
/// so a token issued meanwhile can neither slip between reading the index and deleting it nor be
/// recorded afterwards. KEYS: subject index, epoch. ARGV: token key prefix, epoch TTL (s).
const REMOVE_SUBJECT: &str = r"
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
local alive = 0
for _, jti in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    alive = alive + redis.call('DEL', ARGV[1] .. jti)
end
redis.call('DEL', KEYS[1])
return alive
";

/// Moves a subject's epoch on and returns its indexed tokens. KEYS: subject index, epoch.
/// ARGV: epoch TTL (s).
const BUMP_AND_LIST: &str = r"
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
";

/// `EVAL script numkeys keys…`, ready for the script's arguments. The scripts run only on
/// logins and account changes, so sending their text each time costs nothing that matters.
fn eval(script: &str, keys: &[String]) -> redis::Cmd {
    let mut command = redis::cmd("EVAL");
    command.arg(script).arg(keys.len()).arg(keys);
    command
}

/// Milliseconds since 1970 for an instant `after` from now.
fn unix_ms(after: Duration) -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        + after;
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait::async_trait]
impl TokenStore for RedisTokenStore {
    async fn epoch(&self, subject: Uuid) -> Result<u64, StoreError> {
        let key = self.epoch_key(subject);
        let epoch: Option<u64> = self
            .run(|mut conn| async move { redis::cmd("GET").arg(key).query_async(&mut conn).await })
            .await?;
        Ok(epoch.unwrap_or(0))
    }

    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
        lifetime: Duration,
        epoch: u64,
    ) -> Result<bool, StoreError> {
        let record = serde_json::to_string(principal)?;
        let keys = [
            self.token_key(jti),
            self.subject_key(principal.subject_id),
            self.epoch_key(principal.subject_id),
        ];
        let token_prefix = self.token_prefix();
        let cap = self.tokens_per_subject;
        let recorded: u64 = self
            .run(|mut conn| async move {
                eval(INSERT, &keys)
                    .arg(record)
                    .arg(ttl_secs(idle))
                    .arg(jti.simple().to_string())
                    .arg(epoch)
                    .arg(unix_ms(lifetime))
                    .arg(unix_ms(Duration::ZERO))
                    .arg(cap)
                    .arg(token_prefix)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(recorded == 1)
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

    async fn peek(&self, jti: Uuid) -> Result<Option<Principal>, StoreError> {
        let key = self.token_key(jti);
        let record: Option<String> = self
            .run(|mut conn| async move { redis::cmd("GET").arg(key).query_async(&mut conn).await })
            .await?;
        Ok(record.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    async fn remove(&self, jti: Uuid, subject: Uuid) -> Result<bool, StoreError> {
        let key = self.token_key(jti);
        let index = self.subject_key(subject);
        let (removed, _): (u64, u64) = self
            .run(|mut conn| async move {
                redis::pipe()
                    .atomic()
                    .cmd("DEL")
                    .arg(key)
                    .cmd("ZREM")
                    .arg(index)
                    .arg(jti.simple().to_string())
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(removed > 0)
    }

    async fn remove_subject(&self, subject: Uuid) -> Result<u64, StoreError> {
        let keys = [self.subject_key(subject), self.epoch_key(subject)];
        let token_prefix = self.token_prefix();
        self.run(|mut conn| async move {
            eval(REMOVE_SUBJECT, &keys)
                .arg(token_prefix)
                .arg(EPOCH_KEPT_SECS)
                .query_async(&mut conn)
                .await
        })
        .await
    }

    async fn update_subject(
        &self,
        subject: Uuid,
        update: &PrincipalUpdate<'_>,
    ) -> Result<u64, StoreError> {
        let keys = [self.subject_key(subject), self.epoch_key(subject)];
        let jtis: Vec<String> = self
            .run(|mut conn| async move {
                eval(BUMP_AND_LIST, &keys)
                    .arg(EPOCH_KEPT_SECS)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        let mut updated = 0;
        for jti in jtis {
            let key = format!("{}{jti}", self.token_prefix());
            let read_key = key.clone();
            let record: Option<String> = self
                .run(|mut conn| async move {
                    redis::cmd("GET").arg(read_key).query_async(&mut conn).await
                })
                .await?;
            let Some(record) = record else { continue };
            let mut principal: Principal = serde_json::from_str(&record)?;
            update(&mut principal);
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

    fn shared(&self) -> bool {
        true
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(
            |mut conn| async move { redis::cmd("PING").query_async::<String>(&mut conn).await },
        )
        .await
        .map(|_| ())
    }
}

#[async_trait::async_trait]
impl AttemptCounters for RedisTokenStore {
    async fn reserve_attempt(
        &self,
        buckets: &[Bucket<'_>],
        window: Duration,
    ) -> Result<Reservation, StoreError> {
        let keys: Vec<String> = buckets.iter().map(|b| self.failures_key(b.key)).collect();
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let limits: Vec<u64> = buckets.iter().map(|b| b.limit).collect();
        let retry_ms: u64 = self
            .run(|mut conn| async move {
                eval(RESERVE_ATTEMPT, &keys)
                    .arg(window_ms)
                    .arg(limits)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(match retry_ms {
            0 => Reservation::Reserved,
            ms => Reservation::Refused {
                retry_after: Duration::from_millis(ms),
            },
        })
    }

    async fn release_attempt(&self, forget: &str, release: &[&str]) -> Result<(), StoreError> {
        let keys: Vec<String> = std::iter::once(forget)
            .chain(release.iter().copied())
            .map(|key| self.failures_key(key))
            .collect();
        self.run(|mut conn| async move {
            eval(RELEASE_ATTEMPT, &keys)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }
}

#[async_trait::async_trait]
impl ChangeCounter for RedisTokenStore {
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
}
