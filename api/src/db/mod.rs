//! Storage: connecting, migrating, and the queries each domain needs. No GraphQL types here.

pub mod account_change;
pub mod audit;
pub mod audit_log;
pub mod blacklist;
mod by_id;
pub mod data_scope;
mod held;
pub mod keyset;
mod like;
pub mod role;
pub mod service_account;
pub mod superuser;
mod time_range;
pub mod user;
pub mod user_role;

use std::{collections::HashMap, future::Future};

use anyhow::Context as _;
use entity::Instant;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use self::held::HeldConnections;
use uuid::Uuid;

use crate::{config::Config, data_dir, error::ApiError};

/// Connects to the configured database, creating the data directory for the embedded SQLite file.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    if let Some(file) = config.embedded_database_file() {
        data_dir::ensure(&config.data_dir)?;
        // Every password hash is in this file: created, or tightened, for the owner alone.
        data_dir::restrict_file(&file)?;
    }
    let url = config.database_url();
    log_transport_security(&url);
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(config.database_max_connections())
        .min_connections(1)
        .connect_timeout(config.dependency_timeout())
        .acquire_timeout(config.dependency_timeout())
        // A broken connection is found by the statement that fails on it (and the pool makes a
        // new one); testing every connection before handing it out costs a round trip a request.
        .test_before_acquire(false)
        .sqlx_logging(false);
    // A writer that finds SQLite locked waits for it as long as for a pooled connection, instead
    // of failing at once with "database is locked" (see `begin_write` for the case it cannot wait).
    let busy_timeout = config.dependency_timeout();
    options.map_sqlx_sqlite_opts(move |sqlite| sqlite.busy_timeout(busy_timeout));
    let db = Database::connect(options)
        .await
        .context("connecting to DATABASE_URL")?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed while one writer commits; the default journal blocks them all.
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .context("enabling SQLite WAL")?;
    }
    Ok(db)
}

/// Says how connections to a server database are secured, as DATABASE_URL asks
/// (`sslmode` for PostgreSQL, `ssl-mode` for MySQL). Without it the drivers' default is
/// "prefer": TLS when the server offers it, plain TCP otherwise, and nobody would know which.
fn log_transport_security(url: &str) {
    let (setting, choices) = if url.starts_with("postgres") {
        (
            "sslmode",
            "sslmode=verify-full (or require), or sslmode=disable",
        )
    } else if url.starts_with("mysql") || url.starts_with("mariadb") {
        (
            "ssl-mode",
            "ssl-mode=verify_identity (or required), or ssl-mode=disabled",
        )
    } else {
        return;
    };
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let mode = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(setting)?.strip_prefix('='));
    match mode {
        Some(mode) => {
            tracing::info!("database connections: {setting}={mode}, as DATABASE_URL says")
        }
        None => tracing::warn!(
            "DATABASE_URL names no {setting}: connections use TLS only if the server offers it and \
             fall back to plain TCP silently; say {choices} (fine on loopback or a private network)"
        ),
    }
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("running migrations")
}

/// Now, at the microsecond precision every backend stores, so a value reads back exactly as written.
pub fn now() -> Instant {
    Instant::now()
}

/// Begins a transaction that will write.
///
/// On SQLite it is `BEGIN IMMEDIATE`: it takes the write lock at once, waiting (busy timeout) while
/// another writer holds it. A deferred transaction that reads first and writes after cannot wait:
/// when another writer committed in between, its write fails at once with "database is locked".
/// Taking the lock first also means that what the transaction reads stays true until it commits.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// How often a write is tried when the database keeps giving up on a lock.
const WRITE_ATTEMPTS: u32 = 4;

/// Runs a write again when the database gave up on a lock (MariaDB picks a deadlock victim even
/// among single-row inserts racing deletes of the same unique key): the failed attempt was rolled
/// back whole, so trying again is safe, and after a short random pause it usually goes through.
/// Contention that outlasts every attempt is answered SERVICE_UNAVAILABLE.
pub async fn retrying<T, F, Fut>(mut write: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(ApiError::Contention) if attempt < WRITE_ATTEMPTS => {
                let pause = rand::random_range(5..=25) * u64::from(attempt);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// `(owner, value)` rows, read in the order the values should keep, grouped by owner: how the
/// permissions or role names of many rows are read in one statement rather than one per row.
pub fn grouped(pairs: Vec<(Uuid, String)>) -> HashMap<Uuid, Vec<String>> {
    let mut groups: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (owner, value) in pairs {
        groups.entry(owner).or_default().push(value);
    }
    groups
}

/// Turns a unique-constraint violation into CONFLICT; every other error keeps its meaning.
/// Uniqueness is the database's job: checking first and writing after would race.
pub fn conflict_or(error: DbErr, message: impl FnOnce() -> String) -> ApiError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict(message()),
        _ => error.into(),
    }
}
