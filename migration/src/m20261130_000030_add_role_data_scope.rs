//! Adds a role's data scope: `ALL` (every row) or `ORG` (only rows of the holder's organisation).
//! Existing roles keep reaching every row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Role::Table)
                    .add_column(
                        ColumnDef::new(Role::DataScope)
                            .string_len(8)
                            .not_null()
                            .default("ALL"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Role::Table)
                    .drop_column(Role::DataScope)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Role {
    Table,
    DataScope,
}
