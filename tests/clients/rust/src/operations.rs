//! The operations of operations.graphql, typed against the repository's schema.graphql.

use graphql_client::GraphQLQuery;

/// The schema's `DateTime` scalar: RFC 3339 text, read as a UTC instant.
pub type DateTime = chrono::DateTime<chrono::Utc>;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../../../schema.graphql",
    query_path = "operations.graphql",
    response_derives = "Debug, Clone"
)]
pub struct Login;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../../../schema.graphql",
    query_path = "operations.graphql",
    response_derives = "Debug, Clone"
)]
pub struct CreateBlacklistEntry;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../../../schema.graphql",
    query_path = "operations.graphql",
    response_derives = "Debug, Clone"
)]
pub struct BlacklistEntries;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "../../../schema.graphql",
    query_path = "operations.graphql",
    response_derives = "Debug, Clone"
)]
pub struct Logout;
