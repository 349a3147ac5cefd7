//! Building the schema once, with the shared state its resolvers read.

use async_graphql::Schema;

use super::{
    analysis::INTROSPECTION_MAX_DEPTH, mutation::MutationRoot, query::QueryRoot,
    subscription::SubscriptionRoot,
};
use crate::{config::Config, state::AppState};

pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

pub fn build_schema(state: AppState, config: &Config) -> ApiSchema {
    // QUERY_MAX_DEPTH is checked before execution, apart from introspection's own limit (see
    // `graphql::analysis`); this is only a backstop for any path that skips those checks.
    let backstop_depth = config.query_max_depth.max(INTROSPECTION_MAX_DEPTH);
    let builder = schema_builder()
        .limit_depth(backstop_depth)
        .limit_complexity(config.query_max_complexity)
        // The guards record denials in the audit log; they sit below AppState.
        .data(state.db.clone())
        .data(state);
    if config.introspection_enabled() {
        builder.finish()
    } else {
        // "Did you mean `blacklistEntries`?" would describe the schema introspection hides.
        builder
            .disable_introspection()
            .disable_suggestions()
            .finish()
    }
}

/// The SDL that `schema.graphql` must match (`api schema > schema.graphql`).
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
}
