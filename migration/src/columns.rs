//! Column shapes every table shares, so that each backend gets the same precision.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A UUID primary key (the application generates v7 ids).
pub fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().primary_key().take()
}

/// A UTC timestamp with microsecond precision on every backend.
///
/// MySQL's plain `timestamp` keeps whole seconds, which would break keyset pagination cursors
/// that carry microseconds, so it gets `datetime(6)` (always written in UTC by the server).
pub fn timestamp<T: IntoIden>(manager: &SchemaManager, name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match manager.get_database_backend() {
        DbBackend::MySql => column.custom(Alias::new("datetime(6)")),
        _ => column.timestamp_with_time_zone(),
    };
    column
}
