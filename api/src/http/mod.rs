//! HTTP: the axum router, the /graphql endpoint, health checks and serving with graceful shutdown.

pub mod client_ip;
pub mod enforce;
pub mod graphql;
pub mod health;
pub mod request_id;
pub mod server;
