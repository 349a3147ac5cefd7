//! GraphQL-over-HTTP: content negotiation by `Accept`, the statuses each media type calls for,
//! and the `graphql-http` package's own audit run against the real server.

use std::time::Duration;

use reqwest::{
    StatusCode,
    header::{ACCEPT, CONTENT_TYPE},
};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, error_code, spawn_app},
    node,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// POSTs `body` with `accept` (if any) and returns the status, the content type and the JSON body.
async fn post_accepting(
    app: &TestApp,
    accept: Option<&str>,
    body: Value,
) -> (StatusCode, String, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.json().await.expect("the body is JSON");
    (status, content_type, body)
}

async fn the_graphql_over_http_audit_passes_without_warnings(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let endpoint = app.url("/graphql");

    // Act: audit.mjs fails on any `warn` or `error`, printing each result.
    let report = node::run("audit.mjs", &[&endpoint], &[], Duration::from_secs(60)).await;

    // Assert: the full report shows with --nocapture.
    println!("{report}");
    assert!(
        report.contains("0 warn, 0 error"),
        "the audit's summary is missing:\n{report}"
    );
}

async fn a_client_asking_for_graphql_response_json_gets_it_and_a_400_for_a_parse_error(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let (ok_status, ok_type, ok_body) = post_accepting(
        &app,
        Some(GRAPHQL_RESPONSE_JSON),
        json!({ "query": "{ __typename }" }),
    )
    .await;
    let (status, content_type, body) = post_accepting(
        &app,
        Some(GRAPHQL_RESPONSE_JSON),
        json!({ "query": "{ __typename" }),
    )
    .await;

    // Assert
    assert_eq!(ok_status, StatusCode::OK);
    assert_eq!(ok_type, GRAPHQL_RESPONSE_JSON);
    assert_eq!(ok_body, json!({ "data": { "__typename": "Query" } }));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, GRAPHQL_RESPONSE_JSON);
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");
    assert!(
        body.get("data").is_none(),
        "a request error has no data entry: {body}"
    );
}

async fn validation_and_variable_failures_are_400_under_graphql_response_json(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let unknown_field = json!({ "query": "{ noSuchField }" });
    let null_for_non_null =
        json!({ "query": "query($id: ID!) { __typename }", "variables": { "id": null } });

    for request in [unknown_field, null_for_non_null] {
        // Act
        let (status, content_type, body) =
            post_accepting(&app, Some(GRAPHQL_RESPONSE_JSON), request.clone()).await;

        // Assert
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}: {body}");
        assert_eq!(content_type, GRAPHQL_RESPONSE_JSON);
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{request}");
        assert!(body.get("data").is_none(), "{request}: {body}");
    }
}

async fn a_client_asking_for_json_gets_json_and_a_200_for_a_validation_error(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let (status, content_type, body) = post_accepting(
        &app,
        Some("application/json"),
        json!({ "query": "{ noSuchField }" }),
    )
    .await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}

async fn no_accept_header_or_a_wildcard_is_served_legacy_json(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    for accept in [None, Some("*/*")] {
        // Act
        let (status, content_type, body) =
            post_accepting(&app, accept, json!({ "query": "{ __typename" })).await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert_eq!(content_type, "application/json", "{accept:?}");
        assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");
    }
}

async fn a_client_accepting_only_html_is_refused_with_406_and_a_coded_body(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let get = reqwest::Url::parse_with_params(&app.url("/graphql"), [("query", "{ __typename }")])
        .expect("a valid URL");

    // Act
    let (status, content_type, body) = post_accepting(
        &app,
        Some("text/html"),
        json!({ "query": "{ __typename }" }),
    )
    .await;
    let get = app
        .client
        .get(get)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("request reaches the server");

    // Assert
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(content_type, "application/json");
    assert_eq!(error_code(&body), "NOT_ACCEPTABLE");
    assert_eq!(get.status(), StatusCode::NOT_ACCEPTABLE);
    let body: Value = get.json().await.expect("the body is JSON");
    assert_eq!(error_code(&body), "NOT_ACCEPTABLE");
}

async fn a_request_error_is_not_cached_under_either_media_type(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    for accept in [GRAPHQL_RESPONSE_JSON, "application/json"] {
        // Act
        let response = app
            .client
            .post(app.url("/graphql"))
            .header(ACCEPT, accept)
            .json(&json!({ "query": "{ __typename" }))
            .send()
            .await
            .expect("request reaches the server");

        // Assert
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{accept}"
        );
    }
}

crate::on_backends!([sqlite, postgres] [
    the_graphql_over_http_audit_passes_without_warnings,
    a_client_asking_for_graphql_response_json_gets_it_and_a_400_for_a_parse_error,
    validation_and_variable_failures_are_400_under_graphql_response_json,
    a_client_asking_for_json_gets_json_and_a_200_for_a_validation_error,
    no_accept_header_or_a_wildcard_is_served_legacy_json,
    a_client_accepting_only_html_is_refused_with_406_and_a_coded_body,
    a_request_error_is_not_cached_under_either_media_type,
]);
