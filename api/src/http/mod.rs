//! HTTP: the axum router, the /graphql endpoint (and its WebSocket subscriptions), the playground,
//! health checks, and serving connections within their limits with graceful shutdown.

pub mod body_deadline;
pub mod client_ip;
pub mod connection;
pub mod cors;
pub mod document_ids;
pub mod enforce;
pub mod graphql;
pub mod health;
pub mod media;
pub mod playground;
pub mod request_id;
pub mod server;
pub mod websocket;
