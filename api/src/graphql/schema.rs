//! Building the schema once, with the shared state its resolvers read.

use async_graphql::{EmptySubscription, Schema};

use super::{mutation::MutationRoot, query::QueryRoot};
use crate::state::AppState;

pub type ApiSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Nesting this deep is never needed by the contract and only costs work.
const MAX_DEPTH: usize = 10;
const MAX_COMPLEXITY: usize = 1_000;

pub fn build_schema(state: AppState) -> ApiSchema {
    schema_builder().data(state).finish()
}

/// The SDL that `schema.graphql` must match (`api schema > schema.graphql`).
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
}
