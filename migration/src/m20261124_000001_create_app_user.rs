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
                    .table(AppUser::Table)
                    .col(id(AppUser::Id))
                    .col(
                        ColumnDef::new(AppUser::Username)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(AppUser::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AppUser::DisplayName).string_len(128).null())
                    .col(ColumnDef::new(AppUser::OrgCode).string_len(64).null())
                    .col(ColumnDef::new(AppUser::CompanyCode).string_len(64).null())
                    .col(ColumnDef::new(AppUser::Enabled).boolean().not_null())
                    .col(timestamp(manager, AppUser::CreatedAt).not_null())
                    .col(timestamp(manager, AppUser::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AppUser::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum AppUser {
    Table,
    Id,
    Username,
    PasswordHash,
    DisplayName,
    OrgCode,
    CompanyCode,
    Enabled,
    CreatedAt,
    UpdatedAt,
}
