//! Schema migrations, one per table, each reversible. They run on SQLite, PostgreSQL and MySQL/MariaDB.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261124_000001_create_app_user;
mod m20261124_000002_create_role;
mod m20261124_000003_create_user_role;
mod m20261124_000004_create_role_permission;
mod m20261124_000005_create_service_account;
mod m20261124_000006_create_service_account_permission;
mod m20261124_000007_create_blacklist_entry;
mod m20261130_000001_canonical_account_names;
mod m20261130_000002_create_account_change;
mod m20261130_000010_widen_blacklist_audit_columns;
mod m20261130_000020_create_audit_event;
mod m20261130_000030_add_role_data_scope;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_app_user::Migration),
            Box::new(m20261124_000002_create_role::Migration),
            Box::new(m20261124_000003_create_user_role::Migration),
            Box::new(m20261124_000004_create_role_permission::Migration),
            Box::new(m20261124_000005_create_service_account::Migration),
            Box::new(m20261124_000006_create_service_account_permission::Migration),
            Box::new(m20261124_000007_create_blacklist_entry::Migration),
            Box::new(m20261130_000001_canonical_account_names::Migration),
            Box::new(m20261130_000002_create_account_change::Migration),
            Box::new(m20261130_000010_widen_blacklist_audit_columns::Migration),
            Box::new(m20261130_000020_create_audit_event::Migration),
            Box::new(m20261130_000030_add_role_data_scope::Migration),
        ]
    }
}
