//! Guards: every guarded field refuses every kind of bad credential, and each blacklist field
//! needs exactly its own permission.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_PASSWORD, Backend, JWT_SECRET, TestApp, error_code, spawn_app, token_claims,
};

/// An id no entry has, so a guard that let a request through would answer NOT_FOUND or null, never UNAUTHENTICATED.
const NO_SUCH_ID: &str = "01970000-0000-7000-8000-000000000000";

/// A field behind a guard, a request that reaches it, and the permission it needs (`None`: any valid token).
struct GuardedField {
    name: &'static str,
    query: &'static str,
    variables: Value,
    permission: Option<&'static str>,
}

/// Every guarded field; the ones that take an id get `id`.
fn guarded_fields(id: &str) -> Vec<GuardedField> {
    vec![
        GuardedField {
            name: "me",
            query: "{ me { username } }",
            variables: json!({}),
            permission: None,
        },
        GuardedField {
            name: "logout",
            query: "mutation { logout }",
            variables: json!({}),
            permission: None,
        },
        GuardedField {
            name: "blacklistEntry",
            query: "query($id: ID!) { blacklistEntry(id: $id) { id } }",
            variables: json!({ "id": id }),
            permission: Some("blacklist:read"),
        },
        GuardedField {
            name: "blacklistEntries",
            query: "{ blacklistEntries { totalCount } }",
            variables: json!({}),
            permission: Some("blacklist:read"),
        },
        GuardedField {
            name: "createBlacklistEntry",
            query: "mutation($i: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $i) { id } }",
            variables: json!({ "i": { "ip": "192.0.2.7", "remark": "refused", "bpmStatus": "NEW" } }),
            permission: Some("blacklist:create"),
        },
        GuardedField {
            name: "updateBlacklistEntry",
            query: "mutation($id: ID!, $i: UpdateBlacklistEntryInput!) { updateBlacklistEntry(id: $id, input: $i) { id } }",
            variables: json!({ "id": id, "i": { "remark": "changed", "bpmStatus": null } }),
            permission: Some("blacklist:update"),
        },
        GuardedField {
            name: "deleteBlacklistEntry",
            query: "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }",
            variables: json!({ "id": id }),
            permission: Some("blacklist:delete"),
        },
    ]
}

/// The fields `permission` guards.
fn fields_needing(permission: &str, id: &str) -> Vec<GuardedField> {
    guarded_fields(id)
        .into_iter()
        .filter(|field| field.permission == Some(permission))
        .collect()
}

const BLACKLIST_PERMISSIONS: [&str; 4] = [
    "blacklist:read",
    "blacklist:create",
    "blacklist:update",
    "blacklist:delete",
];

/// The one header a request carries to identify itself, if any.
type Credential = Option<(&'static str, String)>;

fn bearer(token: &str) -> Credential {
    Some(("Authorization", format!("Bearer {token}")))
}

async fn call(app: &TestApp, field: &GuardedField, credential: &Credential) -> Value {
    let variables = field.variables.clone();
    match credential {
        None => app.gql(field.query, variables, None).await,
        Some((name, value)) => {
            app.gql_with_header(field.query, variables, name, value)
                .await
        }
    }
}

/// Calls every guarded field with `credential` and checks each is refused UNAUTHENTICATED, writing nothing.
async fn assert_every_field_is_unauthenticated(app: &TestApp, credential: Credential) {
    for field in guarded_fields(NO_SUCH_ID) {
        let body = call(app, &field, &credential).await;
        assert_eq!(
            error_code(&body),
            "UNAUTHENTICATED",
            "{}: {body}",
            field.name
        );
        assert_eq!(body["errors"][0]["path"], json!([field.name]), "{body}");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!(body["data"][field.name], Value::Null, "{body}");
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

/// Calls `field` with `token` and checks it is refused FORBIDDEN, naming the permission it needs.
async fn assert_forbidden(app: &TestApp, field: &GuardedField, token: &str) {
    let body = call(app, field, &bearer(token)).await;
    let permission = field.permission.expect("a permission-guarded field");
    assert_eq!(error_code(&body), "FORBIDDEN", "{}: {body}", field.name);
    assert_eq!(
        body["errors"][0]["extensions"]["permission"], permission,
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        format!("you have no permission for this interface: {permission}")
    );
    assert_eq!(body["errors"][0]["path"], json!([field.name]), "{body}");
    assert_eq!(body["data"][field.name], Value::Null, "{body}");
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign the claims")
}

/// Checks that `token` is alive, so a refusal of a token forged from it is down to the forgery alone.
async fn assert_alive(app: &TestApp, token: &str) {
    let me = app.gql("{ me { username } }", json!({}), Some(token)).await;
    assert_eq!(me, json!({ "data": { "me": { "username": "admin" } } }));
}

async fn every_guarded_field_refuses_a_request_without_a_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, None).await;
}

async fn every_guarded_field_refuses_a_logged_out_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let logout = app
        .gql("mutation { logout }", json!({}), Some(&token))
        .await;
    assert_eq!(logout, json!({ "data": { "logout": true } }));

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, bearer(&token)).await;
}

async fn every_guarded_field_refuses_an_expired_token(backend: Backend) {
    // Arrange: the live token's own claims, re-signed with the right secret; only exp is wrong.
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let mut claims = token_claims(&live);
    claims["exp"] = json!(Utc::now().timestamp() - 60);
    let expired = sign(&claims, JWT_SECRET);

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, bearer(&expired)).await;
    claims["exp"] = json!(Utc::now().timestamp() + 60);
    assert_alive(&app, &sign(&claims, JWT_SECRET)).await;
}

async fn every_guarded_field_refuses_a_token_signed_with_another_secret(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let forged = sign(
        &token_claims(&live),
        "another-secret-that-is-long-enough-for-hs256",
    );

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, bearer(&forged)).await;
    assert_alive(&app, &live).await;
}

async fn every_guarded_field_refuses_an_unsigned_alg_none_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = live.split('.').nth(1).expect("a JWT payload");
    let unsigned = format!("{header}.{payload}.");

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, bearer(&unsigned)).await;
    assert_alive(&app, &live).await;
}

async fn every_guarded_field_refuses_a_garbage_token(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, bearer("not-a-jwt")).await;
    assert_every_field_is_unauthenticated(&app, Some(("X-AUTH-TOKEN", "not-a-jwt".to_owned())))
        .await;
}

async fn every_guarded_field_refuses_basic_authorization(backend: Backend) {
    // Arrange: even the admin's correct password is no token.
    let app = spawn_app(backend).await;
    let basic = STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"));

    // Act + Assert
    assert_every_field_is_unauthenticated(&app, Some(("Authorization", format!("Basic {basic}"))))
        .await;
}

async fn each_blacklist_field_is_forbidden_to_a_user_lacking_only_its_permission(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    for missing in BLACKLIST_PERMISSIONS {
        let others: Vec<&str> = BLACKLIST_PERMISSIONS
            .into_iter()
            .filter(|permission| *permission != missing)
            .collect();
        let username = format!("lacks-{}", missing.replace(':', "-"));
        let token = app.token_with_permissions(&username, &others).await;

        // Act + Assert
        for field in fields_needing(missing, NO_SUCH_ID) {
            assert_forbidden(&app, &field, &token).await;
        }
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_user_with_only_blacklist_read_is_forbidden_to_create_update_and_delete(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let seeded = app
        .gql(
            "mutation { createBlacklistEntry(input: { ip: \"10.0.0.1\", remark: \"seed\", bpmStatus: \"NEW\" }) { id } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let id = seeded["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("seeding failed: {seeded}"))
        .to_owned();
    let reader = app
        .token_with_permissions("reader", &["blacklist:read"])
        .await;

    // Act + Assert
    for permission in ["blacklist:create", "blacklist:update", "blacklist:delete"] {
        for field in fields_needing(permission, &id) {
            assert_forbidden(&app, &field, &reader).await;
        }
    }
    let read = app
        .gql(
            "query($id: ID!) { blacklistEntry(id: $id) { id ip remark bpmStatus updatedAt } }",
            json!({ "id": id }),
            Some(&reader),
        )
        .await;
    assert_eq!(
        read,
        json!({ "data": { "blacklistEntry": {
            "id": id, "ip": "10.0.0.1", "remark": "seed", "bpmStatus": "NEW", "updatedAt": null,
        } } })
    );
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn a_user_without_permissions_is_forbidden_every_blacklist_field(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.token_with_permissions("nobody", &[]).await;

    // Act + Assert
    for permission in BLACKLIST_PERMISSIONS {
        for field in fields_needing(permission, NO_SUCH_ID) {
            assert_forbidden(&app, &field, &token).await;
        }
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_user_without_permissions_may_still_call_me_and_logout(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.token_with_permissions("nobody", &[]).await;

    // Act
    let me = app
        .gql("{ me { username permissions } }", json!({}), Some(&token))
        .await;
    let logout = app
        .gql("mutation { logout }", json!({}), Some(&token))
        .await;

    // Assert
    assert_eq!(
        me,
        json!({ "data": { "me": { "username": "nobody", "permissions": [] } } })
    );
    assert_eq!(logout, json!({ "data": { "logout": true } }));
}

async fn blacklist_wildcard_grants_every_blacklist_field(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.token_with_permissions("keeper", &["blacklist:*"]).await;

    // Act
    let created = app
        .gql(
            "mutation($i: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $i) { id ip remark bpmStatus createdBy } }",
            json!({ "i": { "ip": "198.51.100.0/24", "remark": "scanner", "bpmStatus": "NEW" } }),
            Some(&token),
        )
        .await;
    let id = created["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("create failed: {created}"))
        .to_owned();
    let read = app
        .gql(
            "query($id: ID!) { blacklistEntry(id: $id) { ip remark } }",
            json!({ "id": id }),
            Some(&token),
        )
        .await;
    let listed = app
        .gql(
            "{ blacklistEntries { totalCount nodes { id } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let updated = app
        .gql(
            "mutation($id: ID!) { updateBlacklistEntry(id: $id, input: { remark: \"confirmed\" }) { remark updatedBy } }",
            json!({ "id": id }),
            Some(&token),
        )
        .await;
    let deleted = app
        .gql(
            "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }",
            json!({ "id": id }),
            Some(&token),
        )
        .await;

    // Assert
    assert_eq!(
        created["data"]["createBlacklistEntry"],
        json!({ "id": id, "ip": "198.51.100.0/24", "remark": "scanner", "bpmStatus": "NEW", "createdBy": "keeper" })
    );
    assert_eq!(
        read,
        json!({ "data": { "blacklistEntry": { "ip": "198.51.100.0/24", "remark": "scanner" } } })
    );
    assert_eq!(
        listed,
        json!({ "data": { "blacklistEntries": { "totalCount": 1, "nodes": [{ "id": id }] } } })
    );
    assert_eq!(
        updated,
        json!({ "data": { "updateBlacklistEntry": { "remark": "confirmed", "updatedBy": "keeper" } } })
    );
    assert_eq!(deleted, json!({ "data": { "deleteBlacklistEntry": id } }));
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

crate::on_backends!([sqlite, postgres] [
    every_guarded_field_refuses_a_request_without_a_token,
    every_guarded_field_refuses_a_logged_out_token,
    every_guarded_field_refuses_an_expired_token,
    every_guarded_field_refuses_a_token_signed_with_another_secret,
    every_guarded_field_refuses_an_unsigned_alg_none_token,
    every_guarded_field_refuses_a_garbage_token,
    every_guarded_field_refuses_basic_authorization,
    each_blacklist_field_is_forbidden_to_a_user_lacking_only_its_permission,
    a_user_with_only_blacklist_read_is_forbidden_to_create_update_and_delete,
    a_user_without_permissions_is_forbidden_every_blacklist_field,
    a_user_without_permissions_may_still_call_me_and_logout,
    blacklist_wildcard_grants_every_blacklist_field,
]);
