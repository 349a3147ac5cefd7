//! Reading one row by its id, the hottest query there is, on every database alike.
//!
//! SeaORM builds a select anew for every call (the column list, quoting, placeholders) and wraps
//! sqlx in several layers of futures; profiled under load, that was about a fifth of the server's
//! own instructions for `blacklistEntry(id)`. Here SeaORM builds the statement once per database
//! kind, and every call binds the id and runs it straight on a held sqlx connection (see `held`),
//! where sqlx keeps it prepared. Rows are read by SeaORM's own `FromQueryResult`, so
//! the values are exactly what the ORM would have returned. `tests/api` reads entries both ways.

use std::{marker::PhantomData, sync::OnceLock};

use sea_orm::{
    ConnAcquireErr, DbBackend, DbErr, EntityTrait, FromQueryResult, PrimaryKeyTrait, QueryResult,
    QueryTrait, RuntimeErr, sqlx,
};
use uuid::Uuid;

use super::held::HeldConnections;

/// The select of one `E` by its UUID primary key, built on first use for each database kind.
pub struct ById<E> {
    postgres: OnceLock<String>,
    mysql: OnceLock<String>,
    sqlite: OnceLock<String>,
    entity: PhantomData<fn() -> E>,
}

impl<E> ById<E>
where
    E: EntityTrait,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>,
{
    pub const fn new() -> Self {
        Self {
            postgres: OnceLock::new(),
            mysql: OnceLock::new(),
            sqlite: OnceLock::new(),
            entity: PhantomData,
        }
    }

    /// The row with this id, if there is one, read on a held connection of the server's
    /// database; errors are SeaORM's, so callers map them as usual.
    pub async fn find(&self, held: &HeldConnections, id: Uuid) -> Result<Option<E::Model>, DbErr> {
        /// Binds the id, runs the statement and keeps the connection once it finished.
        macro_rules! fetch {
            ($held:expr, $backend:expr) => {{
                let mut lease = $held.take().await.map_err(acquire_error)?;
                let row = sqlx::query(sqlx::AssertSqlSafe(self.sql($backend)))
                    .bind(id)
                    .fetch_optional(&mut *lease)
                    .await
                    .map_err(|error| DbErr::Query(RuntimeErr::SqlxError(error.into())))?;
                lease.keep();
                row.map(QueryResult::from)
            }};
        }
        let row = match held {
            HeldConnections::Postgres(held) => fetch!(held, DbBackend::Postgres),
            HeldConnections::MySql(held) => fetch!(held, DbBackend::MySql),
            HeldConnections::Sqlite(held) => fetch!(held, DbBackend::Sqlite),
        };
        row.map(|row| E::Model::from_query_result(&row, ""))
            .transpose()
    }

    fn sql(&self, backend: DbBackend) -> &str {
        let cell = match backend {
            DbBackend::Postgres => &self.postgres,
            DbBackend::MySql => &self.mysql,
            _ => &self.sqlite,
        };
        // The id is a placeholder here; each call binds its own.
        cell.get_or_init(|| E::find_by_id(Uuid::nil()).build(backend).sql)
    }
}

/// A connection that could not be had, as SeaORM reports it (a failed statement is a
/// `DbErr::Query`, as SeaORM's own; `ApiError` tells an outage from a fault in both).
fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}
