//! The point query without the ORM's layers, on PostgreSQL.
//!
//! SeaORM builds the statement anew for every call and wraps sqlx in several layers of futures
//! that are moved (copied) as they are polled; profiled under load, that was about a fifth of the
//! server's own instructions for `blacklistEntry(id)`. The same select as fixed SQL through the
//! same sqlx pool does the same I/O without them. `tests/api` reads entries through both paths.

use entity::{Instant, blacklist_entry::Model};
use sea_orm::{
    ConnAcquireErr, DbErr, RuntimeErr,
    sqlx::{self, FromRow, PgPool, Row, postgres::PgRow},
};
use uuid::Uuid;

const SELECT_BY_ID: &str = "SELECT id, ip, remark, bpm_status, created_by, created_by_name, \
     created_at, updated_by, updated_by_name, updated_at, org_code, company_code \
     FROM blacklist_entry WHERE id = $1";

pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Model>, DbErr> {
    let row: Option<Entry> = sqlx::query_as(SELECT_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    Ok(row.map(|Entry(entry)| entry))
}

/// A row of SELECT_BY_ID, read by position in the order the SQL names the columns.
struct Entry(Model);

impl FromRow<'_, PgRow> for Entry {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self(Model {
            id: row.try_get(0)?,
            ip: row.try_get(1)?,
            remark: row.try_get(2)?,
            bpm_status: row.try_get(3)?,
            created_by: row.try_get(4)?,
            created_by_name: row.try_get(5)?,
            created_at: Instant::from_stored(row.try_get(6)?),
            updated_by: row.try_get(7)?,
            updated_by_name: row.try_get(8)?,
            updated_at: row.try_get::<Option<_>, _>(9)?.map(Instant::from_stored),
            org_code: row.try_get(10)?,
            company_code: row.try_get(11)?,
        }))
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
