//! Widens `created_by` / `updated_by` so that a service account fits as `service:<client id>`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `service:` and a 64-character client id, with room to spare.
const WIDE: u32 = 128;
const NARROW: u32 = 64;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        resize(manager, WIDE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        resize(manager, NARROW).await
    }
}

async fn resize(manager: &SchemaManager<'_>, width: u32) -> Result<(), DbErr> {
    // SQLite neither enforces a varchar length nor can alter a column: nothing to do there.
    if manager.get_database_backend() == DbBackend::Sqlite {
        return Ok(());
    }
    manager
        .alter_table(
            Table::alter()
                .table(BlacklistEntry::Table)
                .modify_column(
                    ColumnDef::new(BlacklistEntry::CreatedBy)
                        .string_len(width)
                        .not_null(),
                )
                .modify_column(
                    ColumnDef::new(BlacklistEntry::UpdatedBy)
                        .string_len(width)
                        .null(),
                )
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum BlacklistEntry {
    Table,
    CreatedBy,
    UpdatedBy,
}
