//! The threads that hash passwords: a fixed few, dedicated, scheduled only when nothing else
//! wants the core, and paced while the machine is busy.
//!
//! argon2id is deliberately expensive (~13 ms of CPU and 19 MiB of memory per hash with the
//! defaults), so logins are kept away from everything else the server does:
//! - off the async workers, which must never block;
//! - on at most PASSWORD_HASH_CONCURRENCY threads, so a login flood cannot take every core;
//! - under Linux's SCHED_IDLE policy, so any other thread that wakes up takes the core from a
//!   hash at once, and resting between hashes while other work keeps the machine busy
//!   (`pacing`): requests already authenticated go first and logins wait;
//! - each thread owns one hash buffer, reused for every hash it computes and given back after a
//!   quiet spell, so login memory is bounded by `threads x memory cost`.

mod pacing;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::Duration,
};

use argon2::Block;
use flume::RecvTimeoutError;
use tokio::sync::oneshot;

use self::pacing::Pacer;
use crate::error::ApiError;

/// A thread that has not hashed for this long frees its buffer.
const KEEP_BUFFER_WHILE_BUSY: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// A handle on the hashing threads; they stop when the last handle is dropped.
#[derive(Clone)]
pub struct HashThreads {
    jobs: flume::Sender<Job>,
}

impl HashThreads {
    /// Starts `threads` hashing threads. `blocks` is the buffer size in argon2 blocks for the
    /// current parameters; `busy_share` the share of a core each may take while the machine is
    /// busy; `queue` how many jobs may wait for a thread.
    pub fn start(
        threads: usize,
        blocks: usize,
        busy_share: f64,
        queue: usize,
    ) -> std::io::Result<Self> {
        // Bounded: behind an unbounded queue a burst of logins makes everyone else's wait.
        let (jobs, queue) = flume::bounded::<Job>(queue.max(1));
        let hashing = Arc::default();
        for number in 0..threads.max(1) {
            let queue = queue.clone();
            let pacer = Pacer::new(busy_share, Arc::clone(&hashing));
            std::thread::Builder::new()
                .name(format!("password-hash-{number}"))
                .spawn(move || work(&queue, blocks, pacer))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `hash` on one of the threads with its buffer and waits for the answer without
    /// blocking; TOO_MANY_REQUESTS at once when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        hash: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |buffer| {
            // A caller that has gone (timed out, disconnected) no longer needs the hash.
            if !answer.is_closed() {
                let _ = answer.send(hash(buffer));
            }
        });
        self.jobs.try_send(job).map_err(|error| match error {
            flume::TrySendError::Full(_) => {
                tracing::warn!("password hashing queue full: login refused");
                ApiError::TooManyRequests { retry_after: 1 }
            }
            flume::TrySendError::Disconnected(_) => {
                ApiError::internal(anyhow::anyhow!("the hashing threads have stopped"))
            }
        })?;
        answered.await.map_err(|_| {
            ApiError::internal(anyhow::anyhow!("a password hash failed on its thread"))
        })
    }
}

/// One hashing thread: take jobs until every handle is gone.
fn work(queue: &flume::Receiver<Job>, blocks: usize, mut pacer: Pacer) {
    lower_priority();
    let mut buffer: Vec<Block> = Vec::new();
    loop {
        match queue.recv_timeout(KEEP_BUFFER_WHILE_BUSY) {
            Ok(job) => {
                let rest = pacer.run(|| {
                    // A panic loses that one answer (the caller gets an internal error), not the thread.
                    if catch_unwind(AssertUnwindSafe(|| job(&mut buffer))).is_err() {
                        buffer = Vec::new();
                    }
                });
                // A buffer grown for an old hash with a higher memory cost is not kept at that size.
                if buffer.len() > blocks {
                    buffer = Vec::new();
                }
                if !rest.is_zero() {
                    std::thread::sleep(rest);
                }
            }
            Err(RecvTimeoutError::Timeout) => buffer = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Puts the calling thread under SCHED_IDLE: it runs only on a core nothing else wants, and is
/// preempted at once when another thread wakes up (a low nice value does not preempt at once).
#[cfg(target_os = "linux")]
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    if let Err(error) =
        set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
    {
        tracing::warn!(
            ?error,
            "cannot lower the password hashing threads' priority"
        );
    }
}

/// Elsewhere the threads keep the server's priority; pacing still applies where it can measure.
#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_threads_with_a_reused_buffer() {
        let threads = HashThreads::start(1, 4, 1.0, 8).expect("threads start");
        let first = threads
            .run(|buffer| {
                buffer.resize(4, Block::default());
                std::thread::current().name().map(str::to_owned)
            })
            .await
            .expect("answer");
        assert_eq!(first.as_deref(), Some("password-hash-0"));
        let kept = threads.run(|buffer| buffer.len()).await.expect("answer");
        assert_eq!(kept, 4);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_thread_goes_on() {
        let threads = HashThreads::start(1, 4, 1.0, 8).expect("threads start");
        let failed = threads.run(|_| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        assert_eq!(threads.run(|_| 7).await.expect("answer"), 7);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_threads_run_under_the_idle_policy() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let threads = HashThreads::start(1, 4, 1.0, 8).expect("threads start");
        let policy = threads
            .run(|_| thread_priority::thread_schedule_policy().expect("policy"))
            .await
            .expect("answer");
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle)
        );
    }
}
