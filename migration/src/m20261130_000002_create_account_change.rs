//! A log of account changes that must reach live tokens (disable, password, role permissions),
//! for servers whose token store lives in their own process: the CLI cannot reach that memory,
//! so it writes here and the server polls.

use sea_orm_migration::prelude::*;

use crate::columns::timestamp;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountChange::Table)
                    .col(
                        ColumnDef::new(AccountChange::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccountChange::SubjectId).uuid().not_null())
                    .col(
                        ColumnDef::new(AccountChange::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(timestamp(manager, AccountChange::CreatedAt).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountChange::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum AccountChange {
    Table,
    Id,
    SubjectId,
    Kind,
    CreatedAt,
}
