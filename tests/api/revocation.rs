//! Revoking live tokens: `revokeTokens`, and the account changes that must reach tokens already
//! issued (disabling a user, a new password, a role losing or gaining a permission), on every instance.

use api::service::accounts;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, spawn_app};

const REVOKE: &str = "mutation($u: String!) { revokeTokens(username: $u) }";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const ME: &str = "{ me { username permissions } }";
const LIST: &str = "{ blacklistEntries { totalCount } }";
const CREATE: &str =
    "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { ip createdBy } }";
const USER: &str = "reader";
const PASSWORD: &str = "reader-password";
/// The role `create_user` gives the user its permissions through.
const ROLE: &str = "reader-role";

/// `reader`, holding `blacklist:read` through `reader-role`.
async fn create_reader(app: &TestApp) {
    app.create_user(USER, PASSWORD, &["blacklist:read"], None, None)
        .await;
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn empty_list() -> Value {
    json!({ "data": { "blacklistEntries": { "totalCount": 0 } } })
}

/// Asserts that a request was made with a token that is no longer alive.
#[track_caller]
fn assert_token_refused(body: &Value) {
    assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "the token is invalid, expired or revoked",
        "{body}"
    );
}

#[track_caller]
fn assert_bad_password(body: &Value) {
    assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "invalid username or password",
        "{body}"
    );
    assert_eq!(body["data"], Value::Null, "no token: {body}");
}

#[track_caller]
fn assert_forbidden(body: &Value, permission: &str) {
    assert_eq!(error_code(body), "FORBIDDEN", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"], permission,
        "{body}"
    );
    assert_eq!(body["data"], Value::Null, "{body}");
}

async fn revoking_tokens_needs_the_token_revoke_permission(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    create_reader(&app).await;
    let victim = app.login(USER, PASSWORD).await;
    let caller = app
        .token_with_permissions("operator", &["blacklist:*"])
        .await;

    // Act
    let refused = app.gql(REVOKE, json!({ "u": USER }), Some(&caller)).await;
    let anonymous = app.gql(REVOKE, json!({ "u": USER }), None).await;
    let victim_after = app.gql(LIST, json!({}), Some(&victim)).await;

    // Assert
    assert_forbidden(&refused, "token:revoke");
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    assert_eq!(victim_after, empty_list());
}

async fn revoking_tokens_counts_every_live_token_and_all_are_refused_next(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    create_reader(&app).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(app.login(USER, PASSWORD).await);
    }
    let revoker = app
        .token_with_permissions("security", &["token:revoke"])
        .await;

    // Act
    let revoked = app.gql(REVOKE, json!({ "u": USER }), Some(&revoker)).await;
    let mut after = Vec::new();
    for token in &tokens {
        after.push(app.gql(LIST, json!({}), Some(token)).await);
    }
    let again = app.gql(REVOKE, json!({ "u": USER }), Some(&revoker)).await;
    let revoker_after = app.gql(ME, json!({}), Some(&revoker)).await;

    // Assert
    assert_eq!(revoked, json!({ "data": { "revokeTokens": 3 } }));
    for body in &after {
        assert_token_refused(body);
    }
    assert_eq!(again, json!({ "data": { "revokeTokens": 0 } }));
    assert_eq!(
        revoker_after,
        json!({ "data": { "me": { "username": "security", "permissions": ["token:revoke"] } } })
    );
}

async fn revoking_tokens_of_an_unknown_user_is_not_found(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let body = app
        .gql(REVOKE, json!({ "u": "nobody-here" }), Some(&admin))
        .await;

    // Assert
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["message"], "user not found");
    assert_eq!(body["data"], Value::Null, "{body}");
}

async fn disabling_a_user_kills_their_tokens_and_refuses_their_login(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    create_reader(&app).await;
    let first = app.login(USER, PASSWORD).await;
    let second = app.login(USER, PASSWORD).await;

    // Act
    let killed = accounts::disable_user(&app.cli_state().await, USER)
        .await
        .expect("disable the user");
    let first_after = app.gql(LIST, json!({}), Some(&first)).await;
    let second_after = app.gql(LIST, json!({}), Some(&second)).await;
    let login = app
        .gql(LOGIN, json!({ "u": USER, "p": PASSWORD }), None)
        .await;

    // Assert
    assert_eq!(killed, 2);
    assert_token_refused(&first_after);
    assert_token_refused(&second_after);
    assert_bad_password(&login);
}

async fn a_new_password_kills_the_tokens_and_only_the_new_password_logs_in(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    create_reader(&app).await;
    let token = app.login(USER, PASSWORD).await;
    let new_password = "a-brand-new-password";

    // Act
    let killed = accounts::change_password(&app.cli_state().await, USER, new_password)
        .await
        .expect("change the password");
    let after = app.gql(LIST, json!({}), Some(&token)).await;
    let with_old = app
        .gql(LOGIN, json!({ "u": USER, "p": PASSWORD }), None)
        .await;
    let with_new = app
        .gql(LOGIN, json!({ "u": USER, "p": new_password }), None)
        .await;

    // Assert
    assert_eq!(killed, 1);
    assert_token_refused(&after);
    assert_bad_password(&with_old);
    let token = with_new["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login with the new password failed: {with_new}"));
    assert_eq!(app.gql(LIST, json!({}), Some(token)).await, empty_list());
}

async fn a_permission_withdrawn_from_a_role_is_refused_on_the_very_next_request(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    create_reader(&app).await;
    let token = app.login(USER, PASSWORD).await;
    let before = app.gql(LIST, json!({}), Some(&token)).await;

    // Act
    let (removed, updated) =
        accounts::revoke_role(&app.cli_state().await, ROLE, &strings(&["blacklist:read"]))
            .await
            .expect("revoke the permission");
    let after = app.gql(LIST, json!({}), Some(&token)).await;
    let me = app.gql(ME, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(before, empty_list());
    assert_eq!((removed, updated), (1, 1));
    assert_forbidden(&after, "blacklist:read");
    assert_eq!(
        me,
        json!({ "data": { "me": { "username": USER, "permissions": [] } } })
    );
}

async fn a_permission_granted_to_a_role_reaches_live_tokens_at_once(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    create_reader(&app).await;
    let token = app.login(USER, PASSWORD).await;
    let before = app
        .gql(CREATE, json!({ "ip": "192.0.2.10" }), Some(&token))
        .await;

    // Act
    let updated = accounts::grant_role(
        &app.cli_state().await,
        ROLE,
        &strings(&["blacklist:create"]),
    )
    .await
    .expect("grant the permission");
    let after = app
        .gql(CREATE, json!({ "ip": "192.0.2.10" }), Some(&token))
        .await;
    let me = app.gql(ME, json!({}), Some(&token)).await;

    // Assert
    assert_forbidden(&before, "blacklist:create");
    assert_eq!(updated, 1);
    assert_eq!(
        after,
        json!({ "data": { "createBlacklistEntry": { "ip": "192.0.2.10", "createdBy": USER } } })
    );
    assert_eq!(
        me,
        json!({ "data": { "me": {
            "username": USER, "permissions": ["blacklist:create", "blacklist:read"],
        } } })
    );
}

async fn tokens_revoked_on_one_instance_are_refused_by_another_at_once(backend: Backend) {
    // Arrange: two servers on one database and one Redis key prefix, as two replicas run.
    let a = spawn_app(backend).await;
    let b = a.spawn_replica().await;
    create_reader(&a).await;
    let token = a.login(USER, PASSWORD).await;
    let admin = a.admin_token().await;
    let on_b_before = b.gql(LIST, json!({}), Some(&token)).await;

    // Act
    let revoked = a.gql(REVOKE, json!({ "u": USER }), Some(&admin)).await;
    let on_b_after = b.gql(LIST, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(on_b_before, empty_list());
    assert_eq!(revoked, json!({ "data": { "revokeTokens": 1 } }));
    assert_token_refused(&on_b_after);
}

async fn a_permission_withdrawn_by_the_cli_is_refused_by_every_instance_at_once(backend: Backend) {
    // Arrange
    let a = spawn_app(backend).await;
    let b = a.spawn_replica().await;
    create_reader(&a).await;
    let token = a.login(USER, PASSWORD).await;
    let on_b_before = b.gql(LIST, json!({}), Some(&token)).await;

    // Act
    let (removed, updated) =
        accounts::revoke_role(&a.cli_state().await, ROLE, &strings(&["blacklist:read"]))
            .await
            .expect("revoke the permission");
    let on_a = a.gql(LIST, json!({}), Some(&token)).await;
    let on_b = b.gql(LIST, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(on_b_before, empty_list());
    assert_eq!((removed, updated), (1, 1));
    assert_forbidden(&on_a, "blacklist:read");
    assert_forbidden(&on_b, "blacklist:read");
}

crate::on_backends!([sqlite, postgres] [
    revoking_tokens_needs_the_token_revoke_permission,
    revoking_tokens_counts_every_live_token_and_all_are_refused_next,
    revoking_tokens_of_an_unknown_user_is_not_found,
    disabling_a_user_kills_their_tokens_and_refuses_their_login,
    a_new_password_kills_the_tokens_and_only_the_new_password_logs_in,
    a_permission_withdrawn_from_a_role_is_refused_on_the_very_next_request,
    a_permission_granted_to_a_role_reaches_live_tokens_at_once,
]);

/// Several instances share tokens only through Redis, so these run where there is one.
mod replicas {
    use super::*;

    crate::on_backends!([postgres] [
        tokens_revoked_on_one_instance_are_refused_by_another_at_once,
        a_permission_withdrawn_by_the_cli_is_refused_by_every_instance_at_once,
    ]);
}
