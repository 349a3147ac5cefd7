//! The GraphQL API: schema assembly, the types it exposes, and thin resolvers over `db::`.

pub mod access;
pub mod analysis;
pub mod cost;
pub mod documents;
pub mod error_codes;
pub mod mutation;
pub mod query;
pub mod schema;
pub mod subscription;
pub mod tokens;
pub mod trusted;
pub mod types;
pub mod variables;
