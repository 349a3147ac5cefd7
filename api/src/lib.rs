//! A GraphQL API server for token-secured interfaces: JWT login, token liveness in Redis,
//! per-user permission guards, and an IP blacklist stored through SeaORM.

pub mod app;
pub mod auth;
pub mod blacklist;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ip;
mod lock;
mod outage;
pub mod service;
mod shared_redis;
pub mod shared_store;
pub mod state;
