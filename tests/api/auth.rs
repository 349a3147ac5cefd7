//! Logging in and out, `me`, and how long a token lives: idle TTL, renewal on use, and the JWT's `exp`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Backend, error_code, spawn_app, spawn_app_with, token_claims,
};

const LOGIN: &str = "mutation($u: String!, $p: String!) {
    login(username: $u, password: $p) {
        token expiresAt principal { username displayName kind permissions orgCode }
    }
}";
const ME: &str = "{ me { username displayName kind permissions orgCode } }";
const LOGOUT: &str = "mutation { logout }";

/// The `me` a valid admin token answers with.
fn admin_principal() -> Value {
    json!({
        "username": "admin",
        "displayName": "Administrator",
        "kind": "USER",
        "permissions": ["*"],
        "orgCode": null,
    })
}

async fn logging_in_as_admin_returns_a_token_its_expiry_and_the_principal(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let body = app
        .gql(LOGIN, json!({ "u": "admin", "p": ADMIN_PASSWORD }), None)
        .await;

    // Assert
    assert_eq!(body["errors"], Value::Null, "{body}");
    let payload = &body["data"]["login"];
    assert_eq!(payload["principal"], admin_principal());
    let token = payload["token"].as_str().expect("a token");
    let claims = token_claims(token);
    assert_eq!(claims["kind"], "USER");
    let issued_at = claims["iat"].as_i64().expect("iat");
    let expires = claims["exp"].as_i64().expect("exp");
    assert_eq!(
        u64::try_from(expires - issued_at).expect("exp after iat"),
        app.config.token_max_ttl_secs
    );
    let expires_at: DateTime<Utc> = payload["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("expiresAt is a date-time");
    assert_eq!(expires_at.timestamp(), expires);
    assert!(expires_at > Utc::now(), "expiresAt {expires_at} is past");
}

async fn a_wrong_password_and_an_unknown_username_are_refused_alike(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let wrong_password = app
        .gql(
            LOGIN,
            json!({ "u": "admin", "p": "not-the-password" }),
            None,
        )
        .await;
    let unknown_user = app
        .gql(LOGIN, json!({ "u": "nobody", "p": ADMIN_PASSWORD }), None)
        .await;

    // Assert
    for body in [&wrong_password, &unknown_user] {
        assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
        assert_eq!(body["errors"][0]["message"], "invalid username or password");
        assert_eq!(body["data"], Value::Null, "no token: {body}");
    }
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_user["errors"][0]["message"]
    );
}

async fn logging_in_works_even_with_a_dead_token_in_the_header(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let stale = app.admin_token().await;
    app.gql(LOGOUT, json!({}), Some(&stale)).await;

    // Act
    let body = app
        .gql(
            LOGIN,
            json!({ "u": "admin", "p": ADMIN_PASSWORD }),
            Some(&stale),
        )
        .await;

    // Assert
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert_eq!(body["data"]["login"]["principal"], admin_principal());
}

async fn me_answers_a_bearer_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let body = app.gql(ME, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(body, json!({ "data": { "me": admin_principal() } }));
}

async fn me_answers_an_x_auth_token_header(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let body = app
        .gql_with_header(ME, json!({}), "X-AUTH-TOKEN", &token)
        .await;

    // Assert
    assert_eq!(body, json!({ "data": { "me": admin_principal() } }));
}

async fn logging_out_returns_true_and_the_token_is_then_refused(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let logout = app.gql(LOGOUT, json!({}), Some(&token)).await;
    let me = app.gql(ME, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(logout, json!({ "data": { "logout": true } }));
    assert_eq!(error_code(&me), "UNAUTHENTICATED", "{me}");
    assert_eq!(me["data"], Value::Null);
}

async fn logging_out_leaves_another_token_of_the_same_user_alive(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let leaving = app.admin_token().await;
    let staying = app.admin_token().await;

    // Act
    let logout = app.gql(LOGOUT, json!({}), Some(&leaving)).await;

    // Assert
    assert_eq!(logout, json!({ "data": { "logout": true } }));
    let refused = app.gql(ME, json!({}), Some(&leaving)).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    let me = app.gql(ME, json!({}), Some(&staying)).await;
    assert_eq!(me, json!({ "data": { "me": admin_principal() } }));
}

async fn a_token_left_unused_past_the_idle_ttl_is_refused(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| config.token_idle_ttl_secs = 1).await;
    let token = app.admin_token().await;
    let fresh = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(fresh["data"]["me"]["username"], "admin", "{fresh}");

    // Act
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let idle = app.gql(ME, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(error_code(&idle), "UNAUTHENTICATED", "{idle}");
    assert_eq!(idle["data"], Value::Null);
}

async fn using_a_token_within_the_idle_ttl_keeps_it_alive(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| config.token_idle_ttl_secs = 2).await;
    let token = app.admin_token().await;

    // Act: four uses a second apart outlive the 2 s idle TTL twice over.
    let mut answers = Vec::new();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        answers.push(app.gql(ME, json!({}), Some(&token)).await);
    }

    // Assert
    for body in &answers {
        assert_eq!(body, &json!({ "data": { "me": admin_principal() } }));
    }
    // Left alone, the same token does die: the TTL above was really 2 s.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let idle = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(error_code(&idle), "UNAUTHENTICATED", "{idle}");
}

async fn a_token_past_its_max_ttl_is_refused_even_while_in_use(backend: Backend) {
    // Arrange: the idle TTL stays long, so only the JWT's exp can end the token.
    let app = spawn_app_with(backend, |config| config.token_max_ttl_secs = 1).await;
    let token = app.admin_token().await;
    let fresh = app.gql(ME, json!({}), Some(&token)).await;
    assert_eq!(fresh["data"]["me"]["username"], "admin", "{fresh}");

    // Act: exp has whole seconds and no leeway, so it has passed 2 s after issue at the latest.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let expired = app.gql(ME, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(error_code(&expired), "UNAUTHENTICATED", "{expired}");
    assert_eq!(expired["data"], Value::Null);
}

async fn a_created_users_principal_carries_its_org_code_and_display_name(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    app.create_user(
        "alice",
        "alice-password",
        &["blacklist:update", "blacklist:read"],
        Some("ORG-7"),
        Some("COMPANY-7"),
    )
    .await;
    let expected = json!({
        "username": "alice",
        "displayName": "alice display",
        "kind": "USER",
        "permissions": ["blacklist:read", "blacklist:update"],
        "orgCode": "ORG-7",
    });

    // Act
    let login = app
        .gql(LOGIN, json!({ "u": "alice", "p": "alice-password" }), None)
        .await;
    let token = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {login}"));
    let me = app.gql(ME, json!({}), Some(token)).await;

    // Assert
    assert_eq!(login["data"]["login"]["principal"], expected);
    assert_eq!(me, json!({ "data": { "me": expected } }));
}

crate::on_backends!([sqlite, postgres] [
    logging_in_as_admin_returns_a_token_its_expiry_and_the_principal,
    a_wrong_password_and_an_unknown_username_are_refused_alike,
    logging_in_works_even_with_a_dead_token_in_the_header,
    me_answers_a_bearer_token,
    me_answers_an_x_auth_token_header,
    logging_out_returns_true_and_the_token_is_then_refused,
    logging_out_leaves_another_token_of_the_same_user_alive,
    a_token_left_unused_past_the_idle_ttl_is_refused,
    using_a_token_within_the_idle_ttl_keeps_it_alive,
    a_token_past_its_max_ttl_is_refused_even_while_in_use,
    a_created_users_principal_carries_its_org_code_and_display_name,
]);
