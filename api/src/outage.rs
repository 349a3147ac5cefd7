//! Background tasks that retry forever log an outage once, when it starts, and once when it ends,
//! not at every failed attempt.

use std::fmt::Display;

pub struct OutageLog {
    healthy: bool,
    /// Said with the error when an outage starts.
    failing: &'static str,
    /// Said when it ends.
    recovered: &'static str,
}

impl OutageLog {
    pub fn new(failing: &'static str, recovered: &'static str) -> Self {
        Self {
            healthy: true,
            failing,
            recovered,
        }
    }

    /// Notes one attempt's outcome, logging only a change of state. Returns whether it succeeded.
    pub fn record(&mut self, outcome: Result<(), impl Display>) -> bool {
        match outcome {
            Ok(()) => {
                if !self.healthy {
                    tracing::info!("{}", self.recovered);
                }
                self.healthy = true;
                true
            }
            Err(error) => {
                if self.healthy {
                    tracing::warn!(%error, "{}", self.failing);
                }
                self.healthy = false;
                false
            }
        }
    }
}
