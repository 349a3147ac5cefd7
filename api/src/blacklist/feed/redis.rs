//! The Redis side of the change feed: PUBLISH on one channel under REDIS_KEY_PREFIX, and one
//! pub/sub connection per instance that relays what arrives to the local subscribers.

use std::{convert::Infallible, sync::Arc, time::Duration};

use futures_util::StreamExt;
use tokio::sync::{broadcast, oneshot};

use super::ChangeEvent;
use crate::{outage::OutageLog, shared_redis::SharedRedis};

/// How long a lost pub/sub connection waits before it is made again.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

pub struct RedisChannel {
    client: redis::Client,
    publisher: SharedRedis,
    channel: String,
    timeout: Duration,
}

impl RedisChannel {
    /// Connects to nothing yet, as the token store: startup does not need Redis up.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: SharedRedis::client(url)?,
            publisher: SharedRedis::new(url, timeout)?,
            channel: format!("{prefix}blacklist:changes"),
            timeout,
        })
    }

    pub async fn publish(&self, event: &ChangeEvent) {
        let message = match serde_json::to_string(event) {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(%error, "cannot encode a blacklist change");
                return;
            }
        };
        let channel = &self.channel;
        let outcome = self
            .publisher
            .run(|mut connection| async move {
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(message)
                    .query_async::<u64>(&mut connection)
                    .await
            })
            .await;
        if let Err(error) = outcome {
            tracing::warn!(%error, "could not publish a blacklist change to subscribers");
        }
    }

    /// Relays the channel to `local` for as long as the process lives, reconnecting after a
    /// loss (events published meanwhile are missed: subscribers get changes, not a log). Returns
    /// once the first subscription holds, or after the timeout.
    pub async fn listen(self: Arc<Self>, local: broadcast::Sender<Arc<ChangeEvent>>) {
        let (subscribed, first) = oneshot::channel();
        let wait = self.timeout;
        tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            let mut outage = OutageLog::new(
                "lost the blacklist change channel; reconnecting",
                "the blacklist change channel works again",
            );
            loop {
                let Err(error) = self.relay(&local, &mut subscribed, &mut outage).await;
                outage.record(Err(error));
                tokio::time::sleep(RECONNECT_AFTER).await;
            }
        });
        let _ = tokio::time::timeout(wait, first).await;
    }

    /// One pub/sub connection, until it ends.
    async fn relay(
        &self,
        local: &broadcast::Sender<Arc<ChangeEvent>>,
        subscribed: &mut Option<oneshot::Sender<()>>,
        outage: &mut OutageLog,
    ) -> Result<Infallible, String> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let mut pubsub = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|error| error.to_string())?;
        if let Some(subscribed) = subscribed.take() {
            let _ = subscribed.send(());
        }
        outage.record(Ok::<(), Infallible>(()));
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let event = message
                .get_payload::<String>()
                .map_err(|error| error.to_string())
                .and_then(|json| serde_json::from_str(&json).map_err(|e| e.to_string()));
            match event {
                // No receiver is no error: nobody is subscribed here.
                Ok(event) => {
                    let _ = local.send(Arc::new(event));
                }
                Err(error) => tracing::warn!(%error, "ignored an unreadable blacklist change"),
            }
        }
        Err("the connection closed".to_owned())
    }
}
