//! Memory under hostile documents: QUERY_MAX_TOKENS refuses a document before it is parsed.

use serde_json::{Value, json};

use crate::helpers::{Backend, error_code, spawn_app_with};

const GRAPHIQL_INTROSPECTION: &str = include_str!("fixtures/graphiql_introspection.graphql");

async fn a_document_over_the_token_limit_is_refused_unparsed(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| config.query_max_tokens = 50).await;
    let token = app.admin_token().await;
    let fifty = format!("{{ me {{ {} }} }}", "username ".repeat(50 - 5));

    // Act
    let at_limit = app.gql(&fifty, json!({}), Some(&token)).await;
    let over = app
        .gql(
            &format!("{{ me {{ {} }} }}", "username ".repeat(46)),
            json!({}),
            Some(&token),
        )
        .await;

    // Assert
    assert_eq!(at_limit["errors"], Value::Null, "{at_limit}");
    assert_eq!(error_code(&over), "GRAPHQL_VALIDATION_FAILED", "{over}");
    assert_eq!(
        over["errors"][0]["message"],
        "the document has more than 50 tokens; at most 50 are allowed"
    );
    assert_eq!(over["data"], Value::Null);
}

async fn graphiqls_introspection_query_passes_the_default_token_limit(backend: Backend) {
    // Arrange: its type references nest deeper than the default QUERY_MAX_DEPTH, so that is raised.
    let app = spawn_app_with(backend, |config| config.query_max_depth = 20).await;

    // Act
    let body = app.gql(GRAPHIQL_INTROSPECTION, json!({}), None).await;

    // Assert
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert!(
        body["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|types| types.len() > 10),
        "{body}"
    );
}

crate::on_backends!([sqlite, postgres] [
    a_document_over_the_token_limit_is_refused_unparsed,
    graphiqls_introspection_query_passes_the_default_token_limit,
]);
