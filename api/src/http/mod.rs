//! HTTP: the axum router, the /graphql endpoint, health checks and serving with graceful shutdown.

pub mod graphql;
pub mod health;
pub mod server;
