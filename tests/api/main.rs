//! Black-box tests: the real server, real databases, real Redis, spoken to over HTTP.

mod auth;
mod blacklist;
mod guards;
mod helpers;
mod http;
mod migrations;
mod pagination;
mod schema;
mod unavailable;
