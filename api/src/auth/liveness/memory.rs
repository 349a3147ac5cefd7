//! The in-process token store: the embedded default, with the same TTL semantics as Redis.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::{Failures, StoreError, TokenStore};
use crate::auth::Principal;

/// How many inserts pass between sweeps of dead records, so memory stays bounded without a timer task.
const SWEEP_EVERY: usize = 256;

#[derive(Default)]
pub struct MemoryTokenStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    records: HashMap<Uuid, Record>,
    subjects: HashMap<Uuid, HashSet<Uuid>>,
    failures: HashMap<String, (u64, Instant)>,
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
        let records = &self.records;
        self.subjects.retain(|_, jtis| {
            jtis.retain(|jti| records.contains_key(jti));
            !jtis.is_empty()
        });
        self.failures.retain(|_, (_, resets)| *resets > now);
    }

    fn live_failures(&self, key: &str, now: Instant) -> Failures {
        match self.failures.get(key) {
            Some(&(count, resets)) if resets > now => Failures {
                count,
                resets_in: resets - now,
            },
            _ => Failures {
                count: 0,
                resets_in: Duration::ZERO,
            },
        }
    }
}

impl MemoryTokenStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a record half-written, so poison is harmless.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn insert(
        &self,
        jti: Uuid,
        principal: &Principal,
        idle: Duration,
        _lifetime: Duration,
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
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
        inner
            .subjects
            .entry(principal.subject_id)
            .or_default()
            .insert(jti);
        Ok(())
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

    async fn remove(&self, jti: Uuid) -> Result<bool, StoreError> {
        let now = Instant::now();
        Ok(self
            .lock()
            .records
            .remove(&jti)
            .is_some_and(|record| record.expires > now))
    }

    async fn remove_subject(&self, subject: Uuid) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let jtis = inner.subjects.remove(&subject).unwrap_or_default();
        let alive = jtis
            .iter()
            .filter_map(|jti| inner.records.remove(jti))
            .filter(|record| record.expires > now)
            .count();
        Ok(alive as u64)
    }

    async fn set_subject_permissions(
        &self,
        subject: Uuid,
        permissions: &[String],
    ) -> Result<u64, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let jtis: Vec<Uuid> = inner
            .subjects
            .get(&subject)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        let mut updated = 0;
        for jti in jtis {
            if let Some(record) = inner
                .records
                .get_mut(&jti)
                .filter(|record| record.expires > now)
            {
                record.principal.permissions = permissions.to_vec();
                updated += 1;
            }
        }
        Ok(updated)
    }

    async fn count_failure(&self, key: &str, window: Duration) -> Result<Failures, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let current = inner.live_failures(key, now);
        let resets = if current.count == 0 {
            now + window
        } else {
            now + current.resets_in
        };
        inner
            .failures
            .insert(key.to_owned(), (current.count + 1, resets));
        Ok(Failures {
            count: current.count + 1,
            resets_in: resets - now,
        })
    }

    async fn failures(&self, key: &str) -> Result<Failures, StoreError> {
        Ok(self.lock().live_failures(key, Instant::now()))
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        self.lock().failures.remove(key);
        Ok(())
    }

    async fn blacklist_version(&self) -> Result<u64, StoreError> {
        Ok(self.lock().blacklist_version)
    }

    async fn bump_blacklist_version(&self) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        inner.blacklist_version += 1;
        Ok(inner.blacklist_version)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
