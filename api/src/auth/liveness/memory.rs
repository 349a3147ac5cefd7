//! The in-process token store: the embedded default, with the same TTL semantics as Redis.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::{StoreError, TokenStore};
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
    inserts_since_sweep: usize,
}

struct Record {
    principal: Principal,
    expires: Instant,
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
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.inserts_since_sweep += 1;
        if inner.inserts_since_sweep >= SWEEP_EVERY {
            inner.inserts_since_sweep = 0;
            inner.records.retain(|_, record| record.expires > now);
        }
        inner.records.insert(
            jti,
            Record {
                principal: principal.clone(),
                expires: now + idle,
            },
        );
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

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
