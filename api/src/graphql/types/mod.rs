//! GraphQL object and input types that are not plain database rows.

pub mod audit;
pub mod auth;
pub mod blacklist;
pub mod input;
pub mod pagination;
pub mod role;
pub mod service_account;
pub mod user;
