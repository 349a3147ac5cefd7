//! The threads that hash passwords: a fixed few, dedicated, at a lower scheduling priority.
//!
//! argon2id is deliberately expensive (~13 ms of CPU and 19 MiB of memory per hash with the
//! defaults), so logins are kept away from everything else the server does:
//! - off the async workers, which must never block;
//! - on at most PASSWORD_HASH_CONCURRENCY threads, so a login flood cannot take every core;
//! - at a lower priority (PASSWORD_HASH_NICE): when the cores are busy, requests that are already
//!   authenticated go first and logins wait, instead of every request slowing down together;
//! - each thread owns one hash buffer, reused for every hash it computes and given back to the
//!   system after a quiet spell, so login memory is bounded by `threads x memory cost`.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    time::Duration,
};

use argon2::Block;
use flume::RecvTimeoutError;
use tokio::sync::oneshot;

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
    /// Starts `threads` hashing threads at scheduling priority `nice` (0 = the server's own, 19 = lowest).
    /// `blocks` is the buffer size in argon2 blocks for the current parameters.
    pub fn start(threads: usize, nice: i32, blocks: usize) -> std::io::Result<Self> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for number in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{number}"))
                .spawn(move || work(&queue, nice, blocks))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `hash` on one of the threads with its buffer and waits for the answer without blocking.
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
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the hashing threads have stopped")))?;
        answered.await.map_err(|_| {
            ApiError::internal(anyhow::anyhow!("a password hash failed on its thread"))
        })
    }
}

/// One hashing thread: take jobs until every handle is gone.
fn work(queue: &flume::Receiver<Job>, nice: i32, blocks: usize) {
    lower_priority(nice);
    let mut buffer: Vec<Block> = Vec::new();
    loop {
        match queue.recv_timeout(KEEP_BUFFER_WHILE_BUSY) {
            Ok(job) => {
                // A panic loses that one answer (the caller gets an internal error), not the thread.
                if catch_unwind(AssertUnwindSafe(|| job(&mut buffer))).is_err() {
                    buffer = Vec::new();
                }
                // A buffer grown for an old hash with a higher memory cost is not kept at that size.
                if buffer.len() > blocks {
                    buffer = Vec::new();
                }
            }
            Err(RecvTimeoutError::Timeout) => buffer = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Lowers the calling thread's priority; on Linux, `setpriority` on a thread id affects that thread only.
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), nice) {
        tracing::warn!(%error, nice, "cannot lower the password hashing threads' priority");
    }
}

/// Elsewhere the call would change the whole process, so the threads keep the server's priority.
#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_threads_with_a_reused_buffer() {
        let threads = HashThreads::start(1, 0, 4).expect("threads start");
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
        let threads = HashThreads::start(1, 0, 4).expect("threads start");
        let failed = threads.run(|_| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        assert_eq!(threads.run(|_| 7).await.expect("answer"), 7);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_threads_run_at_the_configured_priority() {
        let threads = HashThreads::start(1, 7, 4).expect("threads start");
        let nice = threads
            .run(|_| rustix::process::getpriority_process(None).expect("getpriority"))
            .await
            .expect("answer");
        assert_eq!(nice, 7);
    }
}
