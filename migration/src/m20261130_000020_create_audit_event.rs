//! The append-only audit log.

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
                    .table(AuditEvent::Table)
                    .col(id(AuditEvent::Id))
                    .col(timestamp(manager, AuditEvent::At).not_null())
                    .col(ColumnDef::new(AuditEvent::Action).string_len(48).not_null())
                    .col(ColumnDef::new(AuditEvent::ActorKind).string_len(8).null())
                    // Room for `service:` and the longest client id, as the audit fields have.
                    .col(ColumnDef::new(AuditEvent::Actor).string_len(160).null())
                    .col(ColumnDef::new(AuditEvent::Subject).string_len(160).null())
                    .col(ColumnDef::new(AuditEvent::Detail).text().null())
                    .to_owned(),
            )
            .await?;
        // The log is read newest last in (at, id) order, and filtered by actor.
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_event_at")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::At)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    Action,
    ActorKind,
    Actor,
    Subject,
    Detail,
}
