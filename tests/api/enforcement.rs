//! The blacklist enforced: a listed client address is refused before anything runs, the client
//! address behind trusted proxies, `isBlocked`, and changes reaching other instances.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Backend, TestApp, behind_loopback_proxy, error_code, spawn_app, spawn_app_with,
};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { principal { username } } }";
const CREATE: &str =
    "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id ip } }";
const UPDATE: &str =
    "mutation($id: ID!, $ip: String!) { updateBlacklistEntry(id: $id, input: { ip: $ip }) { ip } }";
const DELETE: &str = "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }";
const IS_BLOCKED: &str = "query($ip: String!) { isBlocked(ip: $ip) }";
/// A documentation block (RFC 5737) standing in for a hostile network behind the proxy.
const LISTED_BLOCK: &str = "203.0.113.0/24";
const LISTED_CLIENT: &str = "203.0.113.5";
const OTHER_CLIENT: &str = "198.51.100.1";
/// How often and how long the cross-instance tests look at the other instance.
const POLL_EVERY: Duration = Duration::from_millis(100);
const POLL_FOR: Duration = Duration::from_millis(1500);
/// BLACKLIST_REFRESH_MS is 250 by default: a second leaves room for a slow machine.
const PROPAGATION_LIMIT: Duration = Duration::from_secs(1);

/// The exact answer to a refused client.
fn refused_body() -> Value {
    json!({ "errors": [{
        "message": "your address is on the blacklist",
        "extensions": { "code": "FORBIDDEN", "reason": "IP_BLACKLISTED" },
    }] })
}

fn admin_login() -> Value {
    json!({ "u": "admin", "p": ADMIN_PASSWORD })
}

fn admin_logged_in() -> Value {
    json!({ "data": { "login": { "principal": { "username": "admin" } } } })
}

/// POSTs a GraphQL request, through the proxy as `forwarded_for` when given, keeping the status.
async fn post(
    app: &TestApp,
    forwarded_for: Option<&str>,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    (status, response.json().await.expect("the body is JSON"))
}

/// GET /healthz, through the proxy as `forwarded_for` when given: the status and the body text.
async fn healthz(app: &TestApp, forwarded_for: Option<&str>) -> (StatusCode, String) {
    let mut request = app.client.get(app.url("/healthz"));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

/// Creates an entry as `token` and returns its id, panicking with the body when refused.
async fn create_entry(app: &TestApp, token: &str, ip: &str) -> String {
    let body = app.gql(CREATE, json!({ "ip": ip }), Some(token)).await;
    body["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("create failed: {body}"))
        .to_owned()
}

#[track_caller]
fn assert_refused_as_graphql((status, body): &(StatusCode, Value)) {
    assert_eq!(*status, StatusCode::OK, "{body}");
    assert_eq!(*body, refused_body());
}

#[track_caller]
fn assert_refused_as_http((status, body): &(StatusCode, String)) {
    assert_eq!(*status, StatusCode::FORBIDDEN, "{body}");
    let body: Value = serde_json::from_str(body).expect("the refusal is JSON");
    assert_eq!(body, refused_body());
}

#[track_caller]
fn assert_healthy((status, body): &(StatusCode, String)) {
    assert_eq!(*status, StatusCode::OK, "{body}");
    assert_eq!(body, "ok");
}

/// Polls `b` as `client` until its /healthz answers `want`; returns how long after `since` that was.
async fn time_until_healthz(
    b: &TestApp,
    client: &str,
    want: StatusCode,
    since: Instant,
) -> Option<Duration> {
    while since.elapsed() < POLL_FOR {
        if healthz(b, Some(client)).await.0 == want {
            return Some(since.elapsed());
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    None
}

async fn blacklisting_the_clients_own_address_refuses_its_very_next_request_even_a_login(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let health_before = healthz(&app, None).await;

    // Act
    create_entry(&app, &admin, "127.0.0.1").await;
    let login = post(&app, None, LOGIN, admin_login()).await;
    let with_token = app
        .gql("{ me { username } }", json!({}), Some(&admin))
        .await;
    let health = healthz(&app, None).await;

    // Assert
    assert_healthy(&health_before);
    assert_refused_as_graphql(&login);
    assert_eq!(with_token, refused_body());
    assert_refused_as_http(&health);
}

async fn a_cidr_entry_refuses_every_address_it_covers(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    create_entry(&app, &admin, "127.0.0.0/8").await;
    let login = post(&app, None, LOGIN, admin_login()).await;
    let health = healthz(&app, None).await;

    // Assert
    assert_refused_as_graphql(&login);
    assert_refused_as_http(&health);
}

async fn is_blocked_answers_as_the_matcher_refuses(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let reader = app
        .token_with_permissions("reader", &["blacklist:read"])
        .await;
    let query = r#"{
        inBlock: isBlocked(ip: "203.0.113.77")
        nextBlock: isBlocked(ip: "203.0.114.1")
        mappedInBlock: isBlocked(ip: "::ffff:203.0.113.9")
        listedV6: isBlocked(ip: "2001:DB8::1")
        neighbourV6: isBlocked(ip: "2001:db8::2")
        listedHost: isBlocked(ip: "198.51.100.7")
        neighbourHost: isBlocked(ip: "198.51.100.8")
        loopback: isBlocked(ip: " 127.0.0.1 ")
    }"#;
    let before = app.gql(query, json!({}), Some(&reader)).await;

    // Act
    for ip in [LISTED_BLOCK, "2001:db8::1", "198.51.100.7"] {
        create_entry(&app, &admin, ip).await;
    }
    let after = app.gql(query, json!({}), Some(&reader)).await;

    // Assert
    assert_eq!(
        before,
        json!({ "data": {
            "inBlock": false, "nextBlock": false, "mappedInBlock": false, "listedV6": false,
            "neighbourV6": false, "listedHost": false, "neighbourHost": false, "loopback": false,
        } })
    );
    assert_eq!(
        after,
        json!({ "data": {
            "inBlock": true, "nextBlock": false, "mappedInBlock": true, "listedV6": true,
            "neighbourV6": false, "listedHost": true, "neighbourHost": false, "loopback": false,
        } })
    );
}

async fn is_blocked_needs_the_blacklist_read_permission(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let writer = app
        .token_with_permissions("writer", &["blacklist:create"])
        .await;

    // Act
    let forbidden = app
        .gql(IS_BLOCKED, json!({ "ip": "192.0.2.1" }), Some(&writer))
        .await;
    let anonymous = app
        .gql(IS_BLOCKED, json!({ "ip": "192.0.2.1" }), None)
        .await;

    // Assert
    assert_eq!(error_code(&forbidden), "FORBIDDEN", "{forbidden}");
    assert_eq!(
        forbidden["errors"][0]["extensions"]["permission"],
        "blacklist:read"
    );
    assert_eq!(forbidden["data"], Value::Null, "{forbidden}");
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

async fn is_blocked_refuses_what_is_not_one_address(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let reader = app
        .token_with_permissions("reader", &["blacklist:read"])
        .await;

    // Act
    let mut answers = Vec::new();
    for ip in ["not-an-ip", "10.0.0.0/8", "", "256.1.1.1"] {
        let body = app
            .gql(IS_BLOCKED, json!({ "ip": ip }), Some(&reader))
            .await;
        answers.push((ip, body));
    }

    // Assert
    for (ip, body) in &answers {
        assert_eq!(error_code(body), "BAD_USER_INPUT", "{ip}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "ip", "{body}");
        assert_eq!(
            body["errors"][0]["message"],
            format!("ip: `{ip}` is not an IPv4 or IPv6 address")
        );
        assert_eq!(body["data"], Value::Null, "{body}");
    }
}

async fn behind_a_trusted_proxy_the_forwarded_client_address_is_what_is_refused(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, behind_loopback_proxy).await;
    let admin = app.admin_token().await;
    create_entry(&app, &admin, LISTED_BLOCK).await;

    // Act
    let listed = post(&app, Some(LISTED_CLIENT), LOGIN, admin_login()).await;
    let listed_health = healthz(&app, Some(LISTED_CLIENT)).await;
    let other = post(&app, Some(OTHER_CLIENT), LOGIN, admin_login()).await;
    let other_health = healthz(&app, Some(OTHER_CLIENT)).await;

    // Assert
    assert_refused_as_graphql(&listed);
    assert_refused_as_http(&listed_health);
    assert_eq!(other, (StatusCode::OK, admin_logged_in()));
    assert_healthy(&other_health);
}

async fn without_trusted_proxies_x_forwarded_for_is_ignored(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    create_entry(&app, &admin, LISTED_BLOCK).await;

    // Act
    let login = post(&app, Some(LISTED_CLIENT), LOGIN, admin_login()).await;
    let health = healthz(&app, Some(LISTED_CLIENT)).await;

    // Assert
    assert_eq!(login, (StatusCode::OK, admin_logged_in()));
    assert_healthy(&health);
}

async fn deleting_an_entry_lets_its_address_in_again_at_once(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, behind_loopback_proxy).await;
    let admin = app.admin_token().await;
    let id = create_entry(&app, &admin, LISTED_BLOCK).await;
    let before = post(&app, Some(LISTED_CLIENT), LOGIN, admin_login()).await;

    // Act
    let deleted = app.gql(DELETE, json!({ "id": id }), Some(&admin)).await;
    let after = post(&app, Some(LISTED_CLIENT), LOGIN, admin_login()).await;

    // Assert
    assert_refused_as_graphql(&before);
    assert_eq!(deleted, json!({ "data": { "deleteBlacklistEntry": id } }));
    assert_eq!(after, (StatusCode::OK, admin_logged_in()));
}

async fn moving_an_entry_to_another_address_takes_effect_at_once(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, behind_loopback_proxy).await;
    let admin = app.admin_token().await;
    let id = create_entry(&app, &admin, OTHER_CLIENT).await;
    let listed_before = healthz(&app, Some(LISTED_CLIENT)).await;

    // Act
    let moved = app
        .gql(
            UPDATE,
            json!({ "id": id, "ip": LISTED_BLOCK }),
            Some(&admin),
        )
        .await;
    let listed_after = healthz(&app, Some(LISTED_CLIENT)).await;
    let other_after = healthz(&app, Some(OTHER_CLIENT)).await;

    // Assert
    assert_healthy(&listed_before);
    assert_eq!(
        moved,
        json!({ "data": { "updateBlacklistEntry": { "ip": LISTED_BLOCK } } })
    );
    assert_refused_as_http(&listed_after);
    assert_healthy(&other_after);
}

async fn an_entry_created_on_one_instance_is_enforced_by_another_within_a_second(backend: Backend) {
    // Arrange: two servers on one database and one Redis key prefix, both behind the proxy.
    let a = spawn_app_with(backend, behind_loopback_proxy).await;
    let b = a.spawn_replica().await;
    let admin = a.admin_token().await;
    let on_b_before = healthz(&b, Some(LISTED_CLIENT)).await;

    // Act
    create_entry(&a, &admin, LISTED_BLOCK).await;
    let created = Instant::now();
    let blocked_after = time_until_healthz(&b, LISTED_CLIENT, StatusCode::FORBIDDEN, created).await;

    // Assert
    assert_healthy(&on_b_before);
    let blocked_after = blocked_after
        .unwrap_or_else(|| panic!("B still let {LISTED_CLIENT} in {POLL_FOR:?} after the create"));
    assert!(
        blocked_after <= PROPAGATION_LIMIT,
        "B refused {LISTED_CLIENT} only {blocked_after:?} after the create"
    );
    assert_refused_as_graphql(&post(&b, Some(LISTED_CLIENT), LOGIN, admin_login()).await);
    assert_healthy(&healthz(&b, Some(OTHER_CLIENT)).await);
}

async fn an_entry_deleted_on_one_instance_is_lifted_by_another_within_a_second(backend: Backend) {
    // Arrange
    let a = spawn_app_with(backend, behind_loopback_proxy).await;
    let admin = a.admin_token().await;
    let id = create_entry(&a, &admin, LISTED_BLOCK).await;
    // Started after the create, B loads the entry from the database at startup.
    let b = a.spawn_replica().await;
    let on_b_before = healthz(&b, Some(LISTED_CLIENT)).await;

    // Act
    let deleted = a.gql(DELETE, json!({ "id": id }), Some(&admin)).await;
    let deleted_at = Instant::now();
    let lifted_after = time_until_healthz(&b, LISTED_CLIENT, StatusCode::OK, deleted_at).await;

    // Assert
    assert_refused_as_http(&on_b_before);
    assert_eq!(deleted, json!({ "data": { "deleteBlacklistEntry": id } }));
    let lifted_after = lifted_after
        .unwrap_or_else(|| panic!("B still refused {LISTED_CLIENT} {POLL_FOR:?} after the delete"));
    assert!(
        lifted_after <= PROPAGATION_LIMIT,
        "B let {LISTED_CLIENT} in only {lifted_after:?} after the delete"
    );
}

crate::on_backends!([sqlite, postgres] [
    blacklisting_the_clients_own_address_refuses_its_very_next_request_even_a_login,
    a_cidr_entry_refuses_every_address_it_covers,
    is_blocked_answers_as_the_matcher_refuses,
    is_blocked_needs_the_blacklist_read_permission,
    is_blocked_refuses_what_is_not_one_address,
    behind_a_trusted_proxy_the_forwarded_client_address_is_what_is_refused,
    without_trusted_proxies_x_forwarded_for_is_ignored,
    deleting_an_entry_lets_its_address_in_again_at_once,
    moving_an_entry_to_another_address_takes_effect_at_once,
]);

/// Instances learn of each other's changes only through Redis, so these run where there is one.
mod replicas {
    use super::*;

    crate::on_backends!([postgres] [
        an_entry_created_on_one_instance_is_enforced_by_another_within_a_second,
        an_entry_deleted_on_one_instance_is_lifted_by_another_within_a_second,
    ]);
}
