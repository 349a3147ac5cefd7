use sea_orm_migration::prelude::*;

use crate::columns::{id, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceAccount::Table)
                    .col(id(ServiceAccount::Id))
                    .col(
                        ColumnDef::new(ServiceAccount::ClientId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ServiceAccount::SecretHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ServiceAccount::Enabled).boolean().not_null())
                    .col(timestamp(manager, ServiceAccount::CreatedAt).not_null())
                    .col(timestamp(manager, ServiceAccount::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceAccount::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum ServiceAccount {
    Table,
    Id,
    ClientId,
    SecretHash,
    Enabled,
    CreatedAt,
    UpdatedAt,
}
