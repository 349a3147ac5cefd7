use sea_orm_migration::prelude::*;

use crate::m20261124_000005_create_service_account::ServiceAccount;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceAccountPermission::Table)
                    .col(
                        ColumnDef::new(ServiceAccountPermission::ServiceAccountId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ServiceAccountPermission::Permission)
                            .string_len(128)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ServiceAccountPermission::ServiceAccountId)
                            .col(ServiceAccountPermission::Permission),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_service_account_permission_account")
                            .from(
                                ServiceAccountPermission::Table,
                                ServiceAccountPermission::ServiceAccountId,
                            )
                            .to(ServiceAccount::Table, ServiceAccount::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ServiceAccountPermission::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ServiceAccountPermission {
    Table,
    ServiceAccountId,
    Permission,
}
