//! Reading one row by its id, the hottest query there is, on every database alike.
//!
//! SeaORM builds a select anew for every call (the column list, quoting, placeholders) and wraps
//! sqlx in several layers of futures; profiled under load, that was about a fifth of the server's
//! own instructions for `blacklistEntry(id)`. Here SeaORM builds the statement once per database
//! kind, and every call binds the id and runs it straight on the connection's sqlx pool, where
//! sqlx keeps it prepared per connection. Rows are read by SeaORM's own `FromQueryResult`, so
//! the values are exactly what the ORM would have returned. `tests/api` reads entries both ways.

use std::{marker::PhantomData, sync::OnceLock};

use sea_orm::{
    ConnAcquireErr, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult,
    PrimaryKeyTrait, QueryResult, QueryTrait, RuntimeErr, sqlx,
};
use uuid::Uuid;

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

    /// The row with this id, if there is one; errors are SeaORM's, so callers map them as usual.
    pub async fn find(&self, db: &DatabaseConnection, id: Uuid) -> Result<Option<E::Model>, DbErr> {
        let backend = db.get_database_backend();
        let sql = self.sql(backend);
        let row: Option<QueryResult> = match backend {
            DbBackend::Postgres => {
                let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
                let row = query
                    .fetch_optional(db.get_postgres_connection_pool())
                    .await;
                row.map_err(db_error)?.map(Into::into)
            }
            DbBackend::MySql => {
                let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
                let row = query.fetch_optional(db.get_mysql_connection_pool()).await;
                row.map_err(db_error)?.map(Into::into)
            }
            DbBackend::Sqlite => {
                let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
                let row = query.fetch_optional(db.get_sqlite_connection_pool()).await;
                row.map_err(db_error)?.map(Into::into)
            }
            other => {
                return Err(DbErr::BackendNotSupported {
                    db: other.as_str(),
                    ctx: "ById",
                });
            }
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

/// The errors SeaORM would have returned, so that callers map them the same way.
fn db_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            DbErr::Conn(RuntimeErr::SqlxError(error.into()))
        }
        other => DbErr::Query(RuntimeErr::SqlxError(other.into())),
    }
}
