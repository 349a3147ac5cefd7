//! Usernames and client ids in their canonical spelling (lower-case; they were already limited
//! to ASCII), compared byte for byte: MySQL's default collation would otherwise match `ADMIN`,
//! `admin ` and `ádmin` against `admin`.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The account tables and their name columns.
const NAME_COLUMNS: [(&str, &str); 2] =
    [("app_user", "username"), ("service_account", "client_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column) in NAME_COLUMNS {
            // Two names differing only in case make this fail on the unique index: on purpose,
            // an operator must decide which account keeps the name.
            db.execute_unprepared(&format!(
                "UPDATE {table} SET {column} = LOWER(TRIM({column}))"
            ))
            .await?;
            if manager.get_database_backend() == DatabaseBackend::MySql {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} MODIFY {column} VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::MySql {
            let db = manager.get_connection();
            for (table, column) in NAME_COLUMNS {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} MODIFY {column} VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
