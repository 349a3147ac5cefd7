//! APP_ENV=production: no playground, no introspection, no "Did you mean" suggestions; and no
//! /graphql answer (tokens above all) may be kept by a cache.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Backend, TestApp, error_code, spawn_app, spawn_app_with};
use api::config::AppEnv;

const INTROSPECT: &str = "{ __schema { types { name } } }";
const TYPO: &str = "{ blacklistEntrie { totalCount } }";

async fn typo_message(app: &TestApp) -> String {
    let token = app.admin_token().await;
    let body = app.gql(TYPO, json!({}), Some(&token)).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn production_serves_neither_playground_nor_introspection_nor_suggestions(backend: Backend) {
    // Arrange: PLAYGROUND and INTROSPECTION left at their development defaults.
    let app = spawn_app_with(backend, |config| config.app_env = AppEnv::Production).await;

    // Act
    let playground = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request reaches the server");
    let introspection = app.gql(INTROSPECT, json!({}), None).await;
    let typo = typo_message(&app).await;

    // Assert
    assert_eq!(playground.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(&introspection), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(introspection["data"], Value::Null, "{introspection}");
    assert!(typo.contains("blacklistEntrie"), "{typo}");
    assert!(!typo.contains("Did you mean"), "{typo}");
    assert!(!typo.contains("blacklistEntries"), "{typo}");
}

async fn suggestions_are_hidden_whenever_introspection_is_off(backend: Backend) {
    // Arrange
    let development = spawn_app(backend).await;
    let private = spawn_app_with(backend, |config| config.introspection = false).await;

    // Act
    let helpful = typo_message(&development).await;
    let silent = typo_message(&private).await;

    // Assert: development suggests; without introspection, nothing about the schema leaks.
    assert!(helpful.contains("Did you mean"), "{helpful}");
    assert!(!silent.contains("Did you mean"), "{silent}");
}

async fn every_graphql_answer_is_no_store(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let login = json!({
        "query": "mutation($p: String!) { login(username: \"admin\", password: $p) { token } }",
        "variables": { "p": ADMIN_PASSWORD },
    });

    // Act
    let answers = [
        app.client
            .post(app.url("/graphql"))
            .json(&login)
            .send()
            .await,
        app.client
            .post(app.url("/graphql"))
            .json(&json!([login]))
            .send()
            .await,
        app.client
            .get(app.url("/graphql?query=%7B%20__typename%20%7D"))
            .send()
            .await,
        app.client.get(app.url("/graphql")).send().await,
        app.client
            .post(app.url("/graphql"))
            .body("not json")
            .send()
            .await,
    ];

    // Assert
    for answer in answers {
        let answer = answer.expect("request reaches the server");
        assert_eq!(
            answer.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{} {}",
            answer.status(),
            answer.url()
        );
    }
}

crate::on_backends!([sqlite, postgres] [
    production_serves_neither_playground_nor_introspection_nor_suggestions,
    suggestions_are_hidden_whenever_introspection_is_off,
    every_graphql_answer_is_no_store,
]);
