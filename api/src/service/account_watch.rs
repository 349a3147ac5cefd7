//! Follows the account-change log for a server whose token store lives in its own process, so
//! `api user disable`, `user passwd`, `role revoke` and `service disable`, run in another process,
//! reach its live tokens within a second.

use std::time::{Duration, Instant};

use super::accounts::apply;
use crate::{db::account_change, outage::OutageLog, state::AppState};

const POLL_EVERY: Duration = Duration::from_millis(250);
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Starts following the log from its newest entry (this server's store holds no older tokens).
pub async fn spawn(state: AppState) -> anyhow::Result<()> {
    let mut seen = account_change::latest(&state.db).await?;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(POLL_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = Instant::now();
        // The changes wait in the log through an outage and are applied later.
        let mut outage = OutageLog::new(
            "cannot read account changes; will retry",
            "following account changes works again",
        );
        loop {
            ticker.tick().await;
            outage.record(follow(&state, &mut seen).await);
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = Instant::now();
                if let Err(error) = account_change::prune(&state.db).await {
                    tracing::warn!(%error, "cannot prune the account-change log");
                }
            }
        }
    });
    Ok(())
}

/// Applies every change after `seen`, moving `seen` past each one applied.
async fn follow(state: &AppState, seen: &mut i32) -> Result<(), crate::error::ApiError> {
    for change in account_change::since(&state.db, *seen).await? {
        let tokens = apply(state, change.subject, change.kind).await?;
        tracing::info!(subject = %change.subject, kind = ?change.kind, tokens, "applied an account change");
        *seen = change.id;
    }
    Ok(())
}
