//! Service accounts: `serviceLogin` with a client id and secret, the token's lifetime and
//! permissions, and disabling or rotating an account (the `api service …` library calls).

use api::service::accounts;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, spawn_app, token_claims};

const SERVICE_LOGIN: &str = "mutation($id: String!, $secret: String!, $ttl: Int) {
    serviceLogin(clientId: $id, clientSecret: $secret, ttlSeconds: $ttl) {
        token expiresAt principal { username displayName kind permissions orgCode }
    }
}";
const ME: &str = "{ me { username kind permissions } }";
const LOGOUT: &str = "mutation { logout }";
const LIST: &str = "{ blacklistEntries { totalCount } }";
const CREATE: &str =
    "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id ip createdBy } }";
const CLIENT_ID: &str = "nightly-report";
/// A generated secret is 32 random bytes in unpadded base64url.
const SECRET_CHARS: usize = 43;

async fn service_login(app: &TestApp, client_id: &str, secret: &str, ttl: Option<i64>) -> Value {
    app.gql(
        SERVICE_LOGIN,
        json!({ "id": client_id, "secret": secret, "ttl": ttl }),
        None,
    )
    .await
}

/// How long a token was issued for, from its JWT claims.
fn lifetime_secs(token: &str) -> i64 {
    let claims = token_claims(token);
    claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat")
}

fn expires_at(payload: &Value) -> DateTime<Utc> {
    payload["expiresAt"]
        .as_str()
        .unwrap_or_else(|| panic!("no expiresAt in {payload}"))
        .parse()
        .expect("expiresAt is a date-time")
}

#[track_caller]
fn assert_bad_ttl(body: &Value, reason: &str) {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "ttlSeconds",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        format!("ttlSeconds: {reason}")
    );
    assert_eq!(body["data"], Value::Null, "no token: {body}");
}

#[track_caller]
fn assert_bad_credentials(body: &Value) {
    assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "invalid client id or client secret",
        "{body}"
    );
    assert_eq!(body["data"], Value::Null, "no token: {body}");
}

async fn a_service_logs_in_with_its_secret_as_a_service_principal_holding_exactly_its_permissions(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;

    // Act
    let before = Utc::now().timestamp();
    let body = service_login(&app, CLIENT_ID, &secret, None).await;
    let after = Utc::now().timestamp();

    // Assert
    assert_eq!(secret.len(), SECRET_CHARS, "secret {secret}");
    assert_eq!(body["errors"], Value::Null, "{body}");
    let payload = &body["data"]["serviceLogin"];
    assert_eq!(
        payload["principal"],
        json!({
            "username": CLIENT_ID,
            "displayName": null,
            "kind": "SERVICE",
            "permissions": ["blacklist:read"],
            "orgCode": null,
        })
    );
    let token = payload["token"].as_str().expect("a token");
    assert_eq!(token_claims(token)["kind"], "SERVICE");
    assert_eq!(lifetime_secs(token), 300);
    let expires = expires_at(payload).timestamp();
    assert!(
        (before + 300..=after + 300).contains(&expires),
        "expiresAt {expires} is not 300 s after the login ({before}..={after})"
    );
    let me = app.gql(ME, json!({}), Some(token)).await;
    assert_eq!(
        me,
        json!({ "data": { "me": {
            "username": CLIENT_ID, "kind": "SERVICE", "permissions": ["blacklist:read"],
        } } })
    );
}

async fn a_service_token_lives_the_ttl_it_asks_for_up_to_the_cap(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;

    // Act
    let before = Utc::now().timestamp();
    let short = service_login(&app, CLIENT_ID, &secret, Some(60)).await;
    let after = Utc::now().timestamp();
    let at_the_cap = service_login(&app, CLIENT_ID, &secret, Some(3600)).await;

    // Assert
    let payload = &short["data"]["serviceLogin"];
    let token = payload["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{short}"));
    assert_eq!(lifetime_secs(token), 60);
    let expires = expires_at(payload).timestamp();
    assert!(
        (before + 60..=after + 60).contains(&expires),
        "expiresAt {expires} is not 60 s after the login ({before}..={after})"
    );
    let token = at_the_cap["data"]["serviceLogin"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{at_the_cap}"));
    assert_eq!(lifetime_secs(token), 3600);
}

async fn a_ttl_over_the_cap_is_bad_user_input_not_quietly_shortened(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;

    // Act
    let body = service_login(&app, CLIENT_ID, &secret, Some(3601)).await;

    // Assert
    assert_bad_ttl(&body, "must be at most 3600");
}

async fn a_zero_or_negative_ttl_is_bad_user_input(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;

    // Act
    let zero = service_login(&app, CLIENT_ID, &secret, Some(0)).await;
    let negative = service_login(&app, CLIENT_ID, &secret, Some(-60)).await;

    // Assert
    assert_bad_ttl(&zero, "must be at least 1");
    assert_bad_ttl(&negative, "must be at least 1");
}

async fn a_service_token_reads_the_blacklist_but_may_not_create_entries(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;
    let token = app.service_token(CLIENT_ID, &secret).await;

    // Act
    let read = app.gql(LIST, json!({}), Some(&token)).await;
    let create = app
        .gql(CREATE, json!({ "ip": "192.0.2.1" }), Some(&token))
        .await;

    // Assert
    assert_eq!(
        read,
        json!({ "data": { "blacklistEntries": { "totalCount": 0 } } })
    );
    assert_eq!(error_code(&create), "FORBIDDEN", "{create}");
    assert_eq!(
        create["errors"][0]["extensions"]["permission"],
        "blacklist:create"
    );
    assert_eq!(create["data"], Value::Null, "{create}");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_wrong_secret_and_an_unknown_client_id_are_refused_alike(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;

    // Act
    let wrong_secret = service_login(&app, CLIENT_ID, "not-the-secret", None).await;
    let unknown_client = service_login(&app, "no-such-service", &secret, None).await;

    // Assert
    assert_bad_credentials(&wrong_secret);
    assert_bad_credentials(&unknown_client);
    assert_eq!(wrong_secret, unknown_client);
}

async fn a_job_logs_in_works_logs_out_and_its_token_is_refused_after(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;

    // Act
    let token = app.service_token(CLIENT_ID, &secret).await;
    let work = app.gql(LIST, json!({}), Some(&token)).await;
    let logout = app.gql(LOGOUT, json!({}), Some(&token)).await;
    let after_logout = app.gql(LIST, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(
        work,
        json!({ "data": { "blacklistEntries": { "totalCount": 0 } } })
    );
    assert_eq!(logout, json!({ "data": { "logout": true } }));
    assert_eq!(
        error_code(&after_logout),
        "UNAUTHENTICATED",
        "{after_logout}"
    );
    assert_eq!(
        after_logout["errors"][0]["message"],
        "the token is invalid, expired or revoked"
    );
}

async fn disabling_a_service_kills_its_live_tokens_at_once_and_refuses_its_login(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;
    let first = app.service_token(CLIENT_ID, &secret).await;
    let second = app.service_token(CLIENT_ID, &secret).await;
    let before = app.gql(LIST, json!({}), Some(&first)).await;

    // Act
    let killed = accounts::disable_service(&app.cli_state().await, CLIENT_ID, None)
        .await
        .expect("disable the service");
    let first_after = app.gql(LIST, json!({}), Some(&first)).await;
    let second_after = app.gql(LIST, json!({}), Some(&second)).await;
    let login = service_login(&app, CLIENT_ID, &secret, None).await;

    // Assert
    assert_eq!(
        before,
        json!({ "data": { "blacklistEntries": { "totalCount": 0 } } })
    );
    assert_eq!(killed, 2);
    for body in [&first_after, &second_after] {
        assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    }
    assert_bad_credentials(&login);
}

async fn rotating_a_service_secret_refuses_the_old_one_and_its_tokens_and_accepts_the_new_one(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app(backend).await;
    let old_secret = app.create_service(CLIENT_ID, &["blacklist:read"]).await;
    let issued_before = app.service_token(CLIENT_ID, &old_secret).await;

    // Act
    let new_secret = accounts::rotate_service(&app.cli_state().await, CLIENT_ID, None)
        .await
        .expect("rotate the secret");
    let with_old = service_login(&app, CLIENT_ID, &old_secret, None).await;
    let with_new = service_login(&app, CLIENT_ID, &new_secret, None).await;
    let earlier_token = app.gql(LIST, json!({}), Some(&issued_before)).await;

    // Assert
    assert_ne!(new_secret, old_secret);
    assert_eq!(new_secret.len(), SECRET_CHARS, "secret {new_secret}");
    assert_bad_credentials(&with_old);
    assert_eq!(with_new["errors"], Value::Null, "{with_new}");
    assert_eq!(
        with_new["data"]["serviceLogin"]["principal"]["username"],
        CLIENT_ID
    );
    // A rotation usually means the old secret leaked: the tokens issued with it end too.
    assert_eq!(
        error_code(&earlier_token),
        "UNAUTHENTICATED",
        "{earlier_token}"
    );
}

crate::on_backends!([sqlite, postgres] [
    a_service_logs_in_with_its_secret_as_a_service_principal_holding_exactly_its_permissions,
    a_service_token_lives_the_ttl_it_asks_for_up_to_the_cap,
    a_ttl_over_the_cap_is_bad_user_input_not_quietly_shortened,
    a_zero_or_negative_ttl_is_bad_user_input,
    a_service_token_reads_the_blacklist_but_may_not_create_entries,
    a_wrong_secret_and_an_unknown_client_id_are_refused_alike,
    a_job_logs_in_works_logs_out_and_its_token_is_refused_after,
    disabling_a_service_kills_its_live_tokens_at_once_and_refuses_its_login,
    rotating_a_service_secret_refuses_the_old_one_and_its_tokens_and_accepts_the_new_one,
]);
