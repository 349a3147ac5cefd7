//! The audit log records every kind of event, in the transaction of the change it records: a
//! change rolled back leaves no line, and no line ever holds a password.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, behind_loopback_proxy, error_code, spawn_app_with};

const AUDIT_LOG: &str = "query($filter: AuditFilter, $first: Int, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id at action actorKind actor subject detail }
    }
}";
const CREATE: &str = "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id } }";
const UPDATE: &str = "mutation($id: ID!, $ip: String!) {
    updateBlacklistEntry(id: $id, input: { ip: $ip, remark: \"moved\" }) { id }
}";
const DELETE: &str = "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }";
const LOGOUT: &str = "mutation { logout }";
const REVOKE: &str = "mutation($u: String!) { revokeTokens(username: $u) }";

async fn spawn_target(backend: Backend) -> TestApp {
    spawn_app_with(backend, behind_loopback_proxy).await
}

/// Every event matching `filter`, oldest first, read as the administrator.
async fn events(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let body = app
        .gql(
            AUDIT_LOG,
            json!({ "filter": filter, "first": 100 }),
            Some(token),
        )
        .await;
    body["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("auditLog failed: {body}"))
        .clone()
}

/// The one event of `action` about `subject`.
async fn the_event(app: &TestApp, token: &str, action: &str, subject: &str) -> Value {
    let found = events(app, token, json!({ "action": action, "subject": subject })).await;
    assert_eq!(found.len(), 1, "{action} on {subject}: {found:?}");
    found[0].clone()
}

fn detail(event: &Value) -> Value {
    serde_json::from_str(event["detail"].as_str().expect("a detail")).expect("JSON detail")
}

async fn blacklist_changes_are_recorded_with_before_and_after(backend: Backend) {
    // Arrange
    let app = spawn_target(backend).await;
    let admin = app.admin_token().await;

    // Act
    let created = app
        .gql(CREATE, json!({ "ip": "192.0.2.10" }), Some(&admin))
        .await;
    let id = created["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("create failed: {created}"))
        .to_owned();
    let updated = app
        .gql(
            UPDATE,
            json!({ "id": id, "ip": "192.0.2.11" }),
            Some(&admin),
        )
        .await;
    let deleted = app.gql(DELETE, json!({ "id": id }), Some(&admin)).await;

    // Assert
    assert!(updated["errors"].is_null(), "{updated}");
    assert!(deleted["errors"].is_null(), "{deleted}");
    let create = the_event(&app, &admin, "blacklist.create", &id).await;
    assert_eq!(
        (&create["actorKind"], &create["actor"]),
        (&json!("USER"), &json!("admin"))
    );
    assert_eq!(detail(&create)["after"]["ip"], "192.0.2.10");
    let update = the_event(&app, &admin, "blacklist.update", &id).await;
    assert_eq!(
        detail(&update),
        json!({
            "ip": { "before": "192.0.2.10", "after": "192.0.2.11" },
            "remark": { "before": null, "after": "moved" },
        })
    );
    let delete = the_event(&app, &admin, "blacklist.delete", &id).await;
    assert_eq!(detail(&delete)["before"]["ip"], "192.0.2.11");
}

async fn a_change_rolled_back_leaves_no_line(backend: Backend) {
    // Arrange: two entries; moving the second onto the first's address must fail.
    let app = spawn_target(backend).await;
    let admin = app.admin_token().await;
    app.gql(CREATE, json!({ "ip": "192.0.2.20" }), Some(&admin))
        .await;
    let second = app
        .gql(CREATE, json!({ "ip": "192.0.2.21" }), Some(&admin))
        .await;
    let id = second["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let lines_before = app.count_rows("audit_event").await;

    // Act
    let clash = app
        .gql(
            UPDATE,
            json!({ "id": id, "ip": "192.0.2.20" }),
            Some(&admin),
        )
        .await;
    let duplicate = app
        .gql(CREATE, json!({ "ip": "192.0.2.21" }), Some(&admin))
        .await;

    // Assert
    assert_eq!(error_code(&clash), "CONFLICT", "{clash}");
    assert_eq!(error_code(&duplicate), "CONFLICT", "{duplicate}");
    assert_eq!(app.count_rows("audit_event").await, lines_before);
}

async fn logins_logouts_revocations_and_denials_are_recorded_without_secrets(backend: Backend) {
    // Arrange
    let app = spawn_target(backend).await;
    app.create_user("reader", "reader-password", &["blacklist:read"], None, None)
        .await;

    // Act
    let wrong = app
        .login_from("198.51.100.9", "reader", "not-the-password")
        .await;
    let right = app
        .login_from("198.51.100.9", "reader", "reader-password")
        .await;
    let reader = app.login("reader", "reader-password").await;
    let denied = app
        .gql(CREATE, json!({ "ip": "192.0.2.30" }), Some(&reader))
        .await;
    let logout = app.gql(LOGOUT, json!({}), Some(&reader)).await;
    let admin = app.admin_token().await;
    let revoked = app
        .gql(REVOKE, json!({ "u": "reader" }), Some(&admin))
        .await;

    // Assert
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED", "{wrong}");
    assert!(right["errors"].is_null(), "{right}");
    assert_eq!(error_code(&denied), "FORBIDDEN", "{denied}");
    assert!(logout["errors"].is_null(), "{logout}");
    assert!(revoked["errors"].is_null(), "{revoked}");
    let failed = the_event(&app, &admin, "login.failed", "reader").await;
    assert_eq!(failed["actor"], Value::Null, "nobody was authenticated");
    assert_eq!(detail(&failed), json!({ "address": "198.51.100.9" }));
    let logins = events(
        &app,
        &admin,
        json!({ "action": "login", "actor": "reader" }),
    )
    .await;
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert_eq!(detail(&logins[0]), json!({ "address": "198.51.100.9" }));
    let denial = events(&app, &admin, json!({ "action": "permission.denied" })).await;
    assert_eq!(denial.len(), 1, "{denial:?}");
    assert_eq!(denial[0]["actor"], "reader");
    assert_eq!(
        detail(&denial[0]),
        json!({ "permission": "blacklist:create", "field": "createBlacklistEntry" })
    );
    let logouts = events(
        &app,
        &admin,
        json!({ "action": "logout", "actor": "reader" }),
    )
    .await;
    assert_eq!(logouts.len(), 1, "{logouts:?}");
    let revoke = the_event(&app, &admin, "tokens.revoke", "reader").await;
    assert_eq!(revoke["actor"], "admin");
    let everything =
        serde_json::to_string(&events(&app, &admin, json!({})).await).expect("events serialize");
    assert!(
        !everything.contains("password"),
        "a secret in the log: {everything}"
    );
}

async fn the_log_needs_audit_read_and_pages_in_order(backend: Backend) {
    // Arrange: a few events, and a reader without audit:read.
    let app = spawn_target(backend).await;
    let admin = app.admin_token().await;
    for n in 0..5 {
        app.gql(
            CREATE,
            json!({ "ip": format!("192.0.2.{}", 40 + n) }),
            Some(&admin),
        )
        .await;
    }
    let reader = app
        .token_with_permissions("reader", &["blacklist:read"])
        .await;
    let auditor = app.token_with_permissions("auditor", &["audit:read"]).await;

    // Act
    let refused = app.gql(AUDIT_LOG, json!({}), Some(&reader)).await;
    let anonymous = app.gql(AUDIT_LOG, json!({}), None).await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(
                AUDIT_LOG,
                json!({ "filter": { "action": "blacklist.create" }, "first": 2, "after": after }),
                Some(&auditor),
            )
            .await;
        let page = &body["data"]["auditLog"];
        assert_eq!(page["totalCount"], 5, "{body}");
        seen.extend(page["nodes"].as_array().expect("nodes").iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }

    // Assert
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let addresses: Vec<Value> = seen
        .iter()
        .map(|event| detail(event)["after"]["ip"].clone())
        .collect();
    let expected: Vec<Value> = (0..5)
        .map(|n| json!(format!("192.0.2.{}", 40 + n)))
        .collect();
    assert_eq!(addresses, expected);
}

crate::on_backends!([sqlite, postgres, mysql] [
    blacklist_changes_are_recorded_with_before_and_after,
    a_change_rolled_back_leaves_no_line,
    logins_logouts_revocations_and_denials_are_recorded_without_secrets,
    the_log_needs_audit_read_and_pages_in_order,
]);
