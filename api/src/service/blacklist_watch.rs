//! Keeps this instance's matcher in step with changes made by other instances.

use std::time::{Duration, Instant};

use crate::{outage::OutageLog, state::AppState};

/// However quiet the version key, the matcher is rebuilt this often, in case an announcement was lost.
const FULL_RELOAD_EVERY: Duration = Duration::from_secs(30);

/// Polls the shared blacklist version every `every` and reloads when it moved.
pub fn spawn(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_full_reload = Instant::now();
        // The last good matcher stays in force through an outage.
        let mut outage = OutageLog::new(
            "blacklist refresh failed; enforcing the last loaded blacklist",
            "blacklist refresh works again",
        );
        loop {
            ticker.tick().await;
            let outcome = match state.changes.blacklist_version().await {
                Ok(version) if version != state.blacklist.seen_version() => state
                    .blacklist
                    .reload_for(&state.db, version)
                    .await
                    .map_err(|e| e.to_string()),
                Ok(_) if last_full_reload.elapsed() >= FULL_RELOAD_EVERY => state
                    .blacklist
                    .reload(&state.db)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Ok(_) => continue,
                Err(error) => Err(error.to_string()),
            };
            if outage.record(outcome) {
                last_full_reload = Instant::now();
            }
        }
    });
}
