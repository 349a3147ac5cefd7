//! The HTTP surface: GraphQL-over-HTTP edge cases, the playground, health probes and limits.

use reqwest::{StatusCode, header::CONTENT_TYPE};
use serde_json::{Value, json};

use crate::helpers::{Backend, error_code, spawn_app, spawn_app_with};

async fn post_raw(app: &crate::helpers::TestApp, body: &'static str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("request reaches the server");
    let status = response.status();
    (status, response.json().await.expect("the body is JSON"))
}

fn get_url(app: &crate::helpers::TestApp, query: &str) -> reqwest::Url {
    reqwest::Url::parse_with_params(&app.url("/graphql"), [("query", query)]).expect("a valid URL")
}

async fn malformed_json_is_a_bad_request_with_a_graphql_error_body(backend: Backend) {
    let app = spawn_app(backend).await;

    let (status, body) = post_raw(&app, r#"{"query": "{ me { username } }""#).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BAD_REQUEST");
}

async fn a_syntax_error_has_the_parse_failed_code(backend: Backend) {
    let app = spawn_app(backend).await;

    let body = app.gql("{ me { username }", json!({}), None).await;

    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");
    assert!(body["data"].is_null(), "{body}");
}

async fn an_unknown_field_has_the_validation_failed_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    let body = app
        .gql("{ me { password } }", json!({}), Some(&token))
        .await;

    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}

async fn a_variable_of_the_wrong_type_is_refused_with_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    let body = app
        .gql(
            "query($n: Int) { blacklistEntries(first: $n) { totalCount } }",
            json!({ "n": "many" }),
            Some(&token),
        )
        .await;

    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(body["data"].is_null(), "{body}");
}

async fn the_playground_is_served_to_a_browser(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");

    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("text");
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
}

async fn a_query_can_be_sent_with_get(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    let response = app
        .client
        .get(get_url(&app, "{ me { username } }"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["me"]["username"], "admin");
}

async fn a_mutation_sent_with_get_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    let response = app
        .client
        .get(get_url(
            &app,
            r#"mutation { createBlacklistEntry(input: { ip: "10.1.1.1" }) { id } }"#,
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "BAD_REQUEST");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn health_and_readiness_probes_answer(backend: Backend) {
    let app = spawn_app(backend).await;

    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body, json!({ "database": "ok", "tokenStore": "ok" }));
}

async fn a_body_over_the_limit_is_refused_as_too_large(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.request_body_limit_bytes = 1024).await;
    let remark = "x".repeat(4096);

    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ me { username } }", "variables": { "padding": remark } }))
        .send()
        .await
        .expect("post");

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ me { username } }" }))
        .send()
        .await
        .expect("post");

    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id header");
    assert!(!id.is_empty());
}

crate::on_backends!(
    [sqlite, postgres]
    [
        malformed_json_is_a_bad_request_with_a_graphql_error_body,
        a_syntax_error_has_the_parse_failed_code,
        an_unknown_field_has_the_validation_failed_code,
        a_variable_of_the_wrong_type_is_refused_with_a_code,
        the_playground_is_served_to_a_browser,
        a_query_can_be_sent_with_get,
        a_mutation_sent_with_get_is_refused,
        health_and_readiness_probes_answer,
        a_body_over_the_limit_is_refused_as_too_large,
        every_response_carries_a_request_id,
    ]
);
