//! Black-box tests: the real server, real databases, real Redis, spoken to over HTTP.

mod auth;
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
mod login_attacks;
mod migrations;
mod nginx;
mod pagination;
mod private_services;
mod proxies;
mod revocation;
mod revocation_races;
mod schema;
mod service_tokens;
mod slow_clients;
mod throttling;
mod unavailable;
