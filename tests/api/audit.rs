//! Audit fields tell users and service accounts apart, even when they share a name.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

const CREATE: &str =
    "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id createdBy } }";
const UPDATE: &str = "mutation($id: ID!) { updateBlacklistEntry(id: $id, input: { remark: \"seen\" }) { updatedBy } }";
const BY_CREATOR: &str = "query($by: String!) {
    blacklistEntries(filter: { createdBy: $by }) { totalCount nodes { ip createdBy } }
}";

/// Creates a service account through the `api service create` library call and logs it in.
async fn service_token(app: &TestApp, client_id: &str, permissions: &[&str]) -> String {
    let secret = app.create_service(client_id, permissions).await;
    app.service_token(client_id, &secret).await
}

fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    let value = &body["data"][field];
    assert!(value.is_object(), "{field} failed: {body}");
    value
}

async fn a_service_account_named_like_a_user_is_recorded_apart_from_that_user(backend: Backend) {
    // Arrange: the user `admin`, and a service account also called `admin`.
    let app = spawn_app(backend).await;
    let user = app.admin_token().await;
    let service = service_token(
        &app,
        "admin",
        &["blacklist:create", "blacklist:update", "blacklist:read"],
    )
    .await;

    // Act
    let by_user = app
        .gql(CREATE, json!({ "ip": "192.0.2.1" }), Some(&user))
        .await;
    let by_service = app
        .gql(CREATE, json!({ "ip": "192.0.2.2" }), Some(&service))
        .await;
    let user_entry = data(&by_user, "createBlacklistEntry");
    let updated_by_service = app
        .gql(UPDATE, json!({ "id": user_entry["id"] }), Some(&service))
        .await;
    let users_entries = app
        .gql(BY_CREATOR, json!({ "by": "admin" }), Some(&user))
        .await;
    let services_entries = app
        .gql(BY_CREATOR, json!({ "by": "service:admin" }), Some(&user))
        .await;

    // Assert
    assert_eq!(user_entry["createdBy"], "admin");
    assert_eq!(
        data(&by_service, "createBlacklistEntry")["createdBy"],
        "service:admin"
    );
    assert_eq!(
        data(&updated_by_service, "updateBlacklistEntry")["updatedBy"],
        "service:admin"
    );
    assert_eq!(
        data(&users_entries, "blacklistEntries")["nodes"],
        json!([{ "ip": "192.0.2.1", "createdBy": "admin" }])
    );
    assert_eq!(
        data(&services_entries, "blacklistEntries")["nodes"],
        json!([{ "ip": "192.0.2.2", "createdBy": "service:admin" }])
    );
}

async fn a_service_account_with_the_longest_client_id_fits_in_the_audit_fields(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let client_id = "s".repeat(64);
    let service = service_token(&app, &client_id, &["blacklist:create", "blacklist:update"]).await;

    // Act
    let created = app
        .gql(CREATE, json!({ "ip": "192.0.2.3" }), Some(&service))
        .await;
    let entry = data(&created, "createBlacklistEntry");
    let updated = app
        .gql(UPDATE, json!({ "id": entry["id"] }), Some(&service))
        .await;

    // Assert
    let recorded = format!("service:{client_id}");
    assert_eq!(entry["createdBy"], recorded.as_str());
    assert_eq!(
        data(&updated, "updateBlacklistEntry")["updatedBy"],
        recorded.as_str()
    );
}

crate::on_backends!([sqlite, postgres, mysql] [
    a_service_account_named_like_a_user_is_recorded_apart_from_that_user,
    a_service_account_with_the_longest_client_id_fits_in_the_audit_fields,
]);
