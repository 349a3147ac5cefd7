//! The in-process token store: the embedded default, with the same TTL semantics as Redis.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::{AttemptCounters, Bucket, ChangeCounter, Reservation, StoreError, TokenStore};
use crate::auth::{Principal, principal::PrincipalUpdate};

/// How many inserts pass between sweeps of dead records, so memory stays bounded without a timer task.
const SWEEP_EVERY: usize = 256;

pub struct MemoryTokenStore {
    inner: Mutex<Inner>,
    tokens_per_subject: usize,
}

#[derive(Default)]
struct Inner {
    records: HashMap<Uuid, Record>,
    /// Each subject's tokens with their absolute expiry, oldest first.
    subjects: HashMap<Uuid, VecDeque<(Uuid, Instant)>>,
    epochs: HashMap<Uuid, u64>,
    /// Login-attempt counters: attempts in the window, and when the window ends.
    attempt_counters: HashMap<String, (u64, Instant)>,
    blacklist_version: u64,
    inserts_since_sweep: usize,
}

struct Record {
    principal: Principal,
    expires: Instant,
}

impl Inner {
    fn sweep(&mut self, now: Instant) {
        self.records.retain(|_, record| record.expires > now);
        self.subjects.retain(|_, tokens| {
            tokens.retain(|&(_, expires)| expires > now);
            !tokens.is_empty()
        });
        self.attempt_counters.retain(|_, (_, resets)| *resets > now);
    }

    /// Attempts counted under `key` in its current window, and when that window ends.
    fn attempts(&self, key: &str, now: Instant) -> Option<(u64, Instant)> {
        self.attempt_counters
            .get(key)
            .copied()
            .filter(|&(count, resets)| count > 0 && resets > now)
    }

    fn epoch(&self, subject: Uuid) -> u64 {
        self.epochs.get(&subject).copied().unwrap_or(0)
    }

    fn bump_epoch(&mut self, subject: Uuid) {
        *self.epochs.entry(subject).or_default() += 1;
    }
}

impl MemoryTokenStore {
    /// A store where a subject holds at most `tokens_per_subject` live tokens.
    pub fn new(tokens_per_subject: usize) -> Self {
        Self {
            inner: Mutex::default(),
            tokens_per_subject: tokens_per_subject.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a record half-written, so poison is harmless.
        crate::lock::ignoring_poison(&self.inner)
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn epoch(&self, subject: Uuid) -> Result<u64, StoreError> {
        Ok(self.lock().epoch(subject))
    }

    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
        lifetime: Duration,
        epoch: u64,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.epoch(principal.subject_id) != epoch {
            return Ok(false);
        }
        inner.inserts_since_sweep += 1;
        if inner.inserts_since_sweep >= SWEEP_EVERY {
            inner.inserts_since_sweep = 0;
            inner.sweep(now);
        }
        inner.records.insert(
            jti,
            Record {
                principal: principal.clone(),
                expires: now + idle,
            },
        );
        let tokens = inner.subjects.entry(principal.subject_id).or_default();
        tokens.retain(|&(_, expires)| expires > now);
        tokens.push_back((jti, now + lifetime));
        let evicted: Vec<Uuid> = (tokens.len() > self.tokens_per_subject)
            .then(|| tokens.drain(..tokens.len() - self.tokens_per_subject))
            .into_iter()
            .flatten()
            .map(|(jti, _)| jti)
            .collect();
        for jti in evicted {
            inner.records.remove(&jti);
        }
        Ok(true)
    }

    async fn touch(&self, jti: Uuid, idle: Duration) -> Result<Option<Principal>, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        match inner.records.get_mut(&jti) {
            Some(record) if record.expires > now => {
                record.expires = now + idle;
                Ok(Some(record.principal.clone()))
            }
            Some(_) => {
                inner.records.remove(&jti);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn peek(&self, jti: Uuid) -> Result<Option<Principal>, StoreError> {
        let now = Instant::now();
        let inner = self.lock();
        Ok(inner
            .records
            .get(&jti)
            .filter(|record| record.expires > now)
            .map(|record| record.principal.clone()))
    }

    async fn remove(&self, jti: Uuid, subject: Uuid) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(tokens) = inner.subjects.get_mut(&subject) {
            tokens.retain(|&(indexed, _)| indexed != jti);
            if tokens.is_empty() {
                inner.subjects.remove(&subject);
            }
        }
        Ok(inner
            .records
            .remove(&jti)
            .is_some_and(|record| record.expires > now))
    }

    async fn remove_subject(&self, subject: Uuid) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.bump_epoch(subject);
        let tokens = inner.subjects.remove(&subject).unwrap_or_default();
        let alive = tokens
            .iter()
            .filter_map(|(jti, _)| inner.records.remove(jti))
            .filter(|record| record.expires > now)
            .count();
        Ok(alive as u64)
    }

    async fn update_subject(
        &self,
        subject: Uuid,
        update: &PrincipalUpdate<'_>,
    ) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.bump_epoch(subject);
        let jtis: Vec<Uuid> = inner
            .subjects
            .get(&subject)
            .map(|tokens| tokens.iter().map(|&(jti, _)| jti).collect())
            .unwrap_or_default();
        let mut updated = 0;
        for jti in jtis {
            if let Some(record) = inner
                .records
                .get_mut(&jti)
                .filter(|record| record.expires > now)
            {
                update(&mut record.principal);
                updated += 1;
            }
        }
        Ok(updated)
    }

    fn shared(&self) -> bool {
        false
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl AttemptCounters for MemoryTokenStore {
    async fn reserve_attempt(
        &self,
        buckets: &[Bucket<'_>],
        window: Duration,
    ) -> Result<Reservation, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let retry_after = buckets
            .iter()
            .filter_map(|bucket| {
                inner
                    .attempts(bucket.key, now)
                    .filter(|&(count, _)| count >= bucket.limit)
                    .map(|(_, resets)| resets - now)
            })
            .max();
        if let Some(retry_after) = retry_after {
            return Ok(Reservation::Refused { retry_after });
        }
        for bucket in buckets {
            let (count, resets) = inner.attempts(bucket.key, now).unwrap_or((0, now + window));
            inner
                .attempt_counters
                .insert(bucket.key.to_owned(), (count + 1, resets));
        }
        Ok(Reservation::Reserved)
    }

    async fn release_attempt(&self, forget: &str, release: &[&str]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.attempt_counters.remove(forget);
        for key in release {
            if let Some((count, _)) = inner.attempt_counters.get_mut(*key) {
                *count = count.saturating_sub(1);
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ChangeCounter for MemoryTokenStore {
    async fn blacklist_version(&self) -> Result<u64, StoreError> {
        Ok(self.lock().blacklist_version)
    }

    async fn bump_blacklist_version(&self) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        inner.blacklist_version += 1;
        Ok(inner.blacklist_version)
    }
}
