//! A few database connections taken from the pool once and held for the hottest reads.
//!
//! The pool tests every connection it takes back (sqlx pings it on release: a round trip to the
//! database per request, after the answer). A read that runs on a held connection gives it back
//! here instead, untouched, so a point query costs the database exactly one statement.
//!
//! A connection is kept only after its statement finished: one whose statement failed, or whose
//! request was abandoned mid-statement (a timeout, a client gone), goes back to the pool, which
//! tests it and keeps it or closes it; the next read takes another from the pool. So a connection
//! the database dropped is found by the statement that fails on it, never by a test before use.

use std::{
    ops::{Deref, DerefMut},
    sync::Mutex,
    time::Duration,
};

use sea_orm::{
    DatabaseConnection, DbBackend,
    sqlx::{self, MySql, Pool, Postgres, Sqlite, pool::PoolConnection},
};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Held connections of whichever database the server runs on.
pub enum HeldConnections {
    Postgres(Held<Postgres>),
    MySql(Held<MySql>),
    Sqlite(Held<Sqlite>),
}

impl HeldConnections {
    /// Holds up to half the pool (at least one), so that writes and lists always find
    /// connections; none is taken before the first read needs it.
    pub fn new(db: &DatabaseConnection, pool_size: u32, wait: Duration) -> Self {
        let count = usize::try_from(pool_size / 2).unwrap_or(1).max(1);
        match db.get_database_backend() {
            DbBackend::Postgres => {
                Self::Postgres(Held::new(db.get_postgres_connection_pool(), count, wait))
            }
            DbBackend::MySql => Self::MySql(Held::new(db.get_mysql_connection_pool(), count, wait)),
            _ => Self::Sqlite(Held::new(db.get_sqlite_connection_pool(), count, wait)),
        }
    }
}

pub struct Held<DB: sqlx::Database> {
    pool: Pool<DB>,
    /// One permit per connection that may be held: taken while a read uses one.
    permits: Semaphore,
    idle: Mutex<Vec<PoolConnection<DB>>>,
    /// How long a read waits for a connection, as long as the pool's own acquire would.
    wait: Duration,
}

impl<DB: sqlx::Database> Held<DB> {
    fn new(pool: &Pool<DB>, count: usize, wait: Duration) -> Self {
        Self {
            pool: pool.clone(),
            permits: Semaphore::new(count),
            idle: Mutex::new(Vec::with_capacity(count)),
            wait,
        }
    }

    /// A connection for one read: an idle held one, or a new one from the pool.
    pub async fn take(&self) -> Result<Lease<'_, DB>, sqlx::Error> {
        let permit = tokio::time::timeout(self.wait, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.lock_idle().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.pool.acquire().await?,
        };
        Ok(Lease {
            held: self,
            connection: Some(connection),
            _permit: permit,
        })
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<PoolConnection<DB>>> {
        // Single pushes and pops: a panic cannot leave the list half-written.
        crate::lock::ignoring_poison(&self.idle)
    }
}

/// A held connection in use by one read. Dropped without [`Lease::keep`], its connection goes
/// back to the pool, which tests it.
pub struct Lease<'a, DB: sqlx::Database> {
    held: &'a Held<DB>,
    connection: Option<PoolConnection<DB>>,
    _permit: SemaphorePermit<'a>,
}

impl<DB: sqlx::Database> Lease<'_, DB> {
    /// The read finished cleanly: the connection is held again for the next one.
    pub fn keep(mut self) {
        if let Some(connection) = self.connection.take() {
            self.held.lock_idle().push(connection);
        }
    }
}

impl<DB: sqlx::Database> Deref for Lease<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        self.connection
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl<DB: sqlx::Database> DerefMut for Lease<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.connection
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}
