//! One multiplexed Redis connection per instance, shared by every request.
//!
//! A pool hands each request a connection of its own and, to be sure it still works, sends
//! `UNWATCH` and `PING` on every checkout: two commands of overhead for the one command of work
//! an authenticated request needs. Commands on a multiplexed connection are pipelined by
//! whoever sends them, in order, and no command needs a connection to itself (transactions are
//! `MULTI`…`EXEC` pipelines or Lua scripts), so a single connection serves every request and the
//! only traffic is the work.
//!
//! A broken connection is found by the command that fails on it, never by a test before use: the
//! failing command answers an error (SERVICE_UNAVAILABLE above) and the connection is made again in
//! the background, so the next command finds Redis as soon as it is back. Every command, and the
//! connecting it may wait for, is bounded by DEPENDENCY_TIMEOUT_MS.

use std::{future::Future, time::Duration};

use redis::{
    Client, RedisResult,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

/// Connecting again after a failure: a few quick tries, then the next command tries again.
const RECONNECT_TRIES: usize = 2;
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(10);
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct SharedRedis {
    connection: ConnectionManager,
    timeout: Duration,
}

/// Why a command did not run: Redis is unreachable, too slow, or refused the command.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RedisUnavailable(String);

impl SharedRedis {
    /// Connects to nothing yet: the first command connects, so startup does not need Redis up.
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = Self::client(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(RECONNECT_TRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| anyhow::anyhow!("REDIS_URL is not usable: {error}"))?;
        Ok(Self {
            connection,
            timeout,
        })
    }

    /// Runs one command (or pipeline, or script) on the shared connection, bounded by the
    /// dependency timeout: a stalled Redis turns into an error promptly, never into a request
    /// that hangs.
    pub async fn run<T, F, Fut>(&self, command: F) -> Result<T, RedisUnavailable>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, command(self.connection.clone())).await {
            Ok(outcome) => outcome.map_err(|error| RedisUnavailable(error.to_string())),
            Err(_) => Err(RedisUnavailable("timed out".to_owned())),
        }
    }

    /// A client for connections of their own (pub/sub cannot share the multiplexed one).
    pub fn client(url: &str) -> anyhow::Result<Client> {
        Client::open(url).map_err(|error| anyhow::anyhow!("REDIS_URL is not usable: {error}"))
    }
}
