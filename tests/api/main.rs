//! Black-box tests: the real server, real databases, real Redis, spoken to over HTTP.

mod amplification;
mod auth;
mod batches;
mod blacklist;
mod enforcement;
mod faults;
mod guards;
mod helpers;
mod hostile_documents;
mod hostile_http;
mod hostile_tokens;
mod hostile_values;
mod http;
mod limits;
mod memory;
mod migrations;
mod pagination;
mod private_services;
mod production;
mod revocation;
mod schema;
mod service_tokens;
mod throttling;
mod unavailable;
