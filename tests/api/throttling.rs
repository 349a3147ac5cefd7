//! Login throttling: failures counted per username, per client id and per client address, the
//! same for names that do not exist, reset by a success and lifted when the window ends.
//!
//! Every test sits behind a trusted loopback proxy and sends `X-Forwarded-For`, so each attempt
//! comes from an address the test chose and the per-address counter is under its control.

use std::time::Duration;

use api::service::accounts;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Backend, TestApp, behind_loopback_proxy, error_code, spawn_app_with,
};

const SERVICE_LOGIN: &str = "mutation($id: String!, $secret: String!) {
    serviceLogin(clientId: $id, clientSecret: $secret) { principal { username kind } }
}";
/// LOGIN_MAX_FAILURES's default.
const MAX_FAILURES: usize = 5;
/// LOGIN_FAILURE_WINDOW_SECS's default.
const DEFAULT_WINDOW_SECS: u64 = 900;
const USER: &str = "alice";
const PASSWORD: &str = "alice-password";

/// A distinct client address for attempt `n` of a test (TEST-NET-2, RFC 5737).
fn address(n: usize) -> String {
    format!("198.51.100.{}", n + 1)
}

async fn spawn_throttled_app(backend: Backend) -> TestApp {
    let app = spawn_app_with(backend, behind_loopback_proxy).await;
    app.create_user(USER, PASSWORD, &["blacklist:read"], None, None)
        .await;
    app
}

async fn service_login_from(app: &TestApp, from: &str, client_id: &str, secret: &str) -> Value {
    app.gql_with_header(
        SERVICE_LOGIN,
        json!({ "id": client_id, "secret": secret }),
        "X-Forwarded-For",
        from,
    )
    .await
}

fn logged_in(username: &str) -> Value {
    json!({ "data": { "login": { "principal": { "username": username } } } })
}

#[track_caller]
fn assert_bad_password(body: &Value) {
    assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "invalid username or password",
        "{body}"
    );
}

/// Asserts a throttled answer whose retryAfter lies within the window; returns retryAfter.
#[track_caller]
fn assert_throttled(body: &Value, window_secs: u64) -> u64 {
    assert_eq!(error_code(body), "TOO_MANY_REQUESTS", "{body}");
    let retry_after = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("no retryAfter in {body}"));
    assert!(
        (1..=window_secs).contains(&retry_after),
        "retryAfter {retry_after} is outside 1..={window_secs}: {body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        format!("too many failed attempts; retry in {retry_after} seconds")
    );
    assert_eq!(body["data"], Value::Null, "no token: {body}");
    retry_after
}

/// Makes `MAX_FAILURES` failed logins as `username` from `from`; returns the answers.
async fn fail_from(app: &TestApp, from: &str, username: &str) -> Vec<Value> {
    let mut answers = Vec::new();
    for _ in 0..MAX_FAILURES {
        answers.push(app.login_from(from, username, "wrong-password").await);
    }
    answers
}

async fn after_five_failures_from_an_address_even_the_right_password_from_there_is_refused(
    backend: Backend,
) {
    // Arrange
    let app = spawn_throttled_app(backend).await;
    let failures = fail_from(&app, &address(0), USER).await;

    // Act
    let sixth = app.login_from(&address(0), USER, PASSWORD).await;

    // Assert
    for body in &failures {
        assert_bad_password(body);
    }
    assert_throttled(&sixth, DEFAULT_WINDOW_SECS);
}

async fn the_owner_from_an_address_without_failures_is_not_locked_out(backend: Backend) {
    // Arrange: someone else's failures, enough to lock their own address.
    let app = spawn_throttled_app(backend).await;
    for body in fail_from(&app, &address(0), USER).await {
        assert_bad_password(&body);
    }
    for admin_attempt in fail_from(&app, &address(1), "admin").await {
        assert_bad_password(&admin_attempt);
    }

    // Act
    let owner = app.login_from(&address(2), USER, PASSWORD).await;
    let admin = app.login_from(&address(2), "admin", ADMIN_PASSWORD).await;

    // Assert
    assert_eq!(owner, logged_in(USER));
    assert_eq!(admin, logged_in("admin"));
}

async fn guessing_spread_over_many_addresses_meets_the_per_name_ceiling(backend: Backend) {
    // Arrange: the default ceiling is ten times LOGIN_MAX_FAILURES.
    let ceiling = 10 * MAX_FAILURES;
    let app = spawn_throttled_app(backend).await;
    let mut failures = Vec::new();
    for n in 0..ceiling {
        failures.push(app.login_from(&address(n), USER, "wrong-password").await);
    }

    // Act
    let owner = app.login_from(&address(ceiling), USER, PASSWORD).await;

    // Assert
    for body in &failures {
        assert_bad_password(body);
    }
    assert_throttled(&owner, DEFAULT_WINDOW_SECS);
}

async fn an_unknown_username_is_throttled_exactly_like_a_real_one(backend: Backend) {
    // Arrange
    let app = spawn_throttled_app(backend).await;

    // Act
    let real_failures = fail_from(&app, &address(0), USER).await;
    let real_sixth = app.login_from(&address(0), USER, PASSWORD).await;
    let ghost_failures = fail_from(&app, &address(1), "ghost").await;
    let ghost_sixth = app.login_from(&address(1), "ghost", PASSWORD).await;

    // Assert
    assert_eq!(real_failures, ghost_failures);
    let real_retry = assert_throttled(&real_sixth, DEFAULT_WINDOW_SECS);
    let ghost_retry = assert_throttled(&ghost_sixth, DEFAULT_WINDOW_SECS);
    assert!(
        real_retry.abs_diff(ghost_retry) <= 1,
        "retryAfter {real_retry} for a real user, {ghost_retry} for an unknown one"
    );
    assert_eq!(
        real_sixth["errors"][0]["extensions"]
            .as_object()
            .map(|ext| ext.keys().collect::<Vec<_>>()),
        ghost_sixth["errors"][0]["extensions"]
            .as_object()
            .map(|ext| ext.keys().collect::<Vec<_>>()),
    );
}

async fn failures_from_one_address_across_usernames_hit_the_address_limit(backend: Backend) {
    // Arrange
    let app = spawn_throttled_app(backend).await;
    let secret = accounts::create_service(
        &app.cli_state().await,
        "exporter",
        &["blacklist:read".to_owned()],
    )
    .await
    .expect("create the service account");
    let guesser = address(0);
    let mut failures = Vec::new();
    for n in 0..MAX_FAILURES {
        let username = format!("guess-{n}");
        failures.push(app.login_from(&guesser, &username, "wrong-password").await);
    }

    // Act
    let admin_from_guesser = app.login_from(&guesser, "admin", ADMIN_PASSWORD).await;
    let service_from_guesser = service_login_from(&app, &guesser, "exporter", &secret).await;
    let admin_elsewhere = app.login_from(&address(1), "admin", ADMIN_PASSWORD).await;

    // Assert
    for body in &failures {
        assert_bad_password(body);
    }
    assert_throttled(&admin_from_guesser, DEFAULT_WINDOW_SECS);
    assert_throttled(&service_from_guesser, DEFAULT_WINDOW_SECS);
    assert_eq!(admin_elsewhere, logged_in("admin"));
}

async fn a_successful_login_forgets_its_names_failures_from_its_address(backend: Backend) {
    // Arrange: an address shared by many (a NAT), so only the name's own counter can refuse.
    let app = spawn_app_with(backend, |config| {
        behind_loopback_proxy(config);
        config.login_max_failures_per_address = Some(100);
    })
    .await;
    app.create_user(USER, PASSWORD, &[], None, None).await;
    let from = address(0);
    let mut first_round = Vec::new();
    for _ in 1..MAX_FAILURES {
        first_round.push(app.login_from(&from, USER, "wrong-password").await);
    }
    let success = app.login_from(&from, USER, PASSWORD).await;

    // Act: one short of the limit again from the same address; without the reset that is over it.
    let mut second_round = Vec::new();
    for _ in 1..MAX_FAILURES {
        second_round.push(app.login_from(&from, USER, "wrong-password").await);
    }
    let after = app.login_from(&from, USER, PASSWORD).await;

    // Assert
    for body in first_round.iter().chain(&second_round) {
        assert_bad_password(body);
    }
    assert_eq!(success, logged_in(USER));
    assert_eq!(after, logged_in(USER));
}

async fn the_limit_lifts_when_the_failure_window_ends(backend: Backend) {
    // Arrange
    let window_secs = 2;
    let app = spawn_app_with(backend, |config| {
        behind_loopback_proxy(config);
        config.login_failure_window_secs = window_secs;
    })
    .await;
    app.create_user(USER, PASSWORD, &[], None, None).await;
    let from = address(0);
    for _ in 0..MAX_FAILURES {
        assert_bad_password(&app.login_from(&from, USER, "wrong-password").await);
    }
    let throttled = app.login_from(&from, USER, PASSWORD).await;
    let retry_after = assert_throttled(&throttled, window_secs);

    // Act
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(250)).await;
    let after_window = app.login_from(&from, USER, PASSWORD).await;

    // Assert
    assert_eq!(after_window, logged_in(USER));
}

async fn service_logins_are_throttled_by_client_id(backend: Backend) {
    // Arrange
    let app = spawn_throttled_app(backend).await;
    let client_id = "exporter";
    let secret = accounts::create_service(
        &app.cli_state().await,
        client_id,
        &["blacklist:read".to_owned()],
    )
    .await
    .expect("create the service account");
    let mut failures = Vec::new();
    for _ in 0..MAX_FAILURES {
        failures.push(service_login_from(&app, &address(0), client_id, "wrong-secret").await);
    }

    // Act
    let right_secret = service_login_from(&app, &address(0), client_id, &secret).await;
    let elsewhere = service_login_from(&app, &address(1), client_id, &secret).await;
    // A person's username is counted apart from a client id, even when they are spelled alike.
    let user_alike = app.login_from(&address(2), client_id, "x").await;

    // Assert
    for body in &failures {
        assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
        assert_eq!(
            body["errors"][0]["message"],
            "invalid client id or client secret"
        );
    }
    assert_throttled(&right_secret, DEFAULT_WINDOW_SECS);
    assert_eq!(
        elsewhere["data"]["serviceLogin"]["principal"]["username"], client_id,
        "{elsewhere}"
    );
    assert_bad_password(&user_alike);
}

crate::on_backends!([sqlite, postgres] [
    after_five_failures_from_an_address_even_the_right_password_from_there_is_refused,
    the_owner_from_an_address_without_failures_is_not_locked_out,
    guessing_spread_over_many_addresses_meets_the_per_name_ceiling,
    an_unknown_username_is_throttled_exactly_like_a_real_one,
    failures_from_one_address_across_usernames_hit_the_address_limit,
    a_successful_login_forgets_its_names_failures_from_its_address,
    the_limit_lifts_when_the_failure_window_ends,
    service_logins_are_throttled_by_client_id,
]);
