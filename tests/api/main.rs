//! Black-box tests: the real server, real databases, real Redis, spoken to over HTTP.

mod helpers;
mod smoke;
