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
                    .table(BlacklistEntry::Table)
                    .col(id(BlacklistEntry::Id))
                    .col(ColumnDef::new(BlacklistEntry::Ip).string_len(64).not_null())
                    .col(
                        ColumnDef::new(BlacklistEntry::Remark)
                            .string_len(500)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BlacklistEntry::BpmStatus)
                            .string_len(32)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BlacklistEntry::CreatedBy)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BlacklistEntry::CreatedByName)
                            .string_len(128)
                            .null(),
                    )
                    .col(timestamp(manager, BlacklistEntry::CreatedAt).not_null())
                    .col(
                        ColumnDef::new(BlacklistEntry::UpdatedBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BlacklistEntry::UpdatedByName)
                            .string_len(128)
                            .null(),
                    )
                    .col(timestamp(manager, BlacklistEntry::UpdatedAt).null())
                    .col(
                        ColumnDef::new(BlacklistEntry::OrgCode)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BlacklistEntry::CompanyCode)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The unique index is what settles concurrent duplicate creates: exactly one insert wins.
        manager
            .create_index(
                Index::create()
                    .name("ux_blacklist_entry_ip")
                    .table(BlacklistEntry::Table)
                    .col(BlacklistEntry::Ip)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Keyset pagination walks (created_at, id).
        manager
            .create_index(
                Index::create()
                    .name("ix_blacklist_entry_created")
                    .table(BlacklistEntry::Table)
                    .col(BlacklistEntry::CreatedAt)
                    .col(BlacklistEntry::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BlacklistEntry::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BlacklistEntry {
    Table,
    Id,
    Ip,
    Remark,
    BpmStatus,
    CreatedBy,
    CreatedByName,
    CreatedAt,
    UpdatedBy,
    UpdatedByName,
    UpdatedAt,
    OrgCode,
    CompanyCode,
}
