//! Batches: each operation sees the token as it is when that operation runs, and the whole batch
//! answers within REQUEST_TIMEOUT_MS.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Backend, spawn_app, spawn_app_with};

async fn post_batch(app: &crate::helpers::TestApp, batch: &Value, token: Option<&str>) -> Value {
    let mut request = app.client.post(app.url("/graphql")).json(batch);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request reaches the server");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the body is JSON")
}

async fn an_operation_after_logout_in_the_same_batch_is_unauthenticated(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let batch = json!([
        { "query": "{ me { username } }" },
        { "query": "mutation { logout }" },
        { "query": "{ me { username } }" },
        { "query": r#"mutation { createBlacklistEntry(input: { ip: "192.0.2.9" }) { id } }"# },
    ]);

    // Act
    let answers = post_batch(&app, &batch, Some(&token)).await;

    // Assert
    assert_eq!(
        answers[0],
        json!({ "data": { "me": { "username": "admin" } } })
    );
    assert_eq!(answers[1], json!({ "data": { "logout": true } }));
    for revoked in [&answers[2], &answers[3]] {
        assert_eq!(
            revoked["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{answers}"
        );
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_batch_of_slow_operations_is_cut_at_the_request_timeout(backend: Backend) {
    // Arrange: each login hashes for a good while; ten of them take far longer than the deadline.
    let timeout = Duration::from_millis(1500);
    let app = spawn_app_with(backend, |config| {
        config.request_timeout_ms = timeout.as_millis() as u64;
        config.password_hash_memory_kib = 65536;
        config.password_hash_iterations = 8;
    })
    .await;
    let login = json!({
        "query": "mutation($p: String!) { login(username: \"admin\", password: $p) { token } }",
        "variables": { "p": ADMIN_PASSWORD },
    });
    let batch = Value::Array(vec![login; 10]);

    // Act
    let started = Instant::now();
    let answers = post_batch(&app, &batch, None).await;
    let took = started.elapsed();

    // Assert: one deadline for the batch, not one per operation.
    assert!(
        took < timeout + Duration::from_millis(750),
        "the batch took {took:?}"
    );
    let answers = answers.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 10);
    assert_eq!(
        answers[9],
        json!({ "data": null, "errors": [{
            "message": "the request took too long and was stopped",
            "extensions": { "code": "TIMEOUT" },
        }] })
    );
}

async fn a_batch_still_answers_every_operation_within_the_deadline(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let batch = Value::Array(vec![json!({ "query": "{ me { username } }" }); 10]);

    // Act
    let answers = post_batch(&app, &batch, Some(&token)).await;

    // Assert
    assert_eq!(
        answers,
        Value::Array(vec![
            json!({ "data": { "me": { "username": "admin" } } });
            10
        ])
    );
}

crate::on_backends!([sqlite, postgres] [
    an_operation_after_logout_in_the_same_batch_is_unauthenticated,
    a_batch_of_slow_operations_is_cut_at_the_request_timeout,
    a_batch_still_answers_every_operation_within_the_deadline,
]);
