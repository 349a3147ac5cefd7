//! Failing closed: when the token store cannot answer, nothing passes unchecked.

use jsonwebtoken::{EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, JWT_SECRET, error_code, spawn_app_with};

/// Nothing listens on port 1 of loopback: every Redis connection is refused at once.
const DEAD_REDIS: &str = "redis://127.0.0.1:1";

/// A token with a valid signature and expiry, so only the liveness check can refuse it.
fn well_signed_token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": uuid::Uuid::now_v7(), "jti": uuid::Uuid::now_v7(), "kind": "USER", "iat": now, "exp": now + 600,
    });
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

async fn guarded_fields_are_unavailable_when_redis_is_unreachable(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.redis_url = Some(DEAD_REDIS.to_owned());
        config.dependency_timeout_ms = 500;
    })
    .await;
    let token = well_signed_token();

    let me = app
        .gql("{ me { username } }", json!({}), Some(&token))
        .await;
    let create = app
        .gql(
            r#"mutation { createBlacklistEntry(input: { ip: "10.9.9.9" }) { id } }"#,
            json!({}),
            Some(&token),
        )
        .await;

    assert_eq!(error_code(&me), "SERVICE_UNAVAILABLE");
    assert_eq!(error_code(&create), "SERVICE_UNAVAILABLE");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn login_is_unavailable_when_redis_is_unreachable(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.redis_url = Some(DEAD_REDIS.to_owned());
        config.dependency_timeout_ms = 500;
    })
    .await;

    let body = app
        .gql(
            "mutation($p: String!) { login(username: \"admin\", password: $p) { token } }",
            json!({ "p": crate::helpers::ADMIN_PASSWORD }),
            None,
        )
        .await;

    assert_eq!(error_code(&body), "SERVICE_UNAVAILABLE");
    assert!(body["data"].is_null(), "{body}");
}

async fn readiness_reports_an_unreachable_token_store(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.redis_url = Some(DEAD_REDIS.to_owned());
        config.dependency_timeout_ms = 500;
    })
    .await;

    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({ "database": "ok", "tokenStore": "unavailable" })
    );
}

crate::on_backends!(
    [postgres]
    [
        guarded_fields_are_unavailable_when_redis_is_unreachable,
        login_is_unavailable_when_redis_is_unreachable,
        readiness_reports_an_unreachable_token_store,
    ]
);
