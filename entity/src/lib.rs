//! SeaORM entities: one module per table, shared by the server and the migrations' tests.

pub mod account_change;
pub mod audit_event;
pub mod blacklist_entry;
pub mod instant;
pub mod role;
pub mod role_permission;
pub mod service_account;
pub mod service_account_permission;
pub mod user;
pub mod user_role;

pub use instant::Instant;
