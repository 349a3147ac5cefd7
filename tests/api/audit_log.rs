//! The audit log records every kind of event, in the transaction of the change it records: a
//! change rolled back leaves no line, and no line ever holds a password or a client secret.

use api::service::accounts;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::{
    admin::{
        CREATE_ROLE, CREATE_USER, DELETE_ROLE, DISABLE_SERVICE, ROTATE_SERVICE, SET_PASSWORD,
        SET_ROLES, UPDATE_ROLE, UPDATE_USER, create_service, id_of, ok,
    },
    helpers::{Backend, TestApp, behind_loopback_proxy, error_code, spawn_app_with},
};

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

/// Who made an event: its actor kind and name (both null for the command line).
fn actor(event: &Value) -> (&Value, &Value) {
    (&event["actorKind"], &event["actor"])
}

/// The detail (null when it has none) of the one `action` event about `subject`, after checking
/// that the user `admin` made it.
async fn detail_by_admin(app: &TestApp, token: &str, action: &str, subject: &str) -> Value {
    let event = the_event(app, token, action, subject).await;
    assert_eq!(actor(&event), (&json!("USER"), &json!("admin")), "{event}");
    if event["detail"].is_null() {
        Value::Null
    } else {
        detail(&event)
    }
}

/// Every line of the log, as one string to search for what must not be there.
async fn whole_log(app: &TestApp, token: &str) -> String {
    serde_json::to_string(&events(app, token, json!({})).await).expect("events serialize")
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
    let everything = whole_log(&app, &admin).await;
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

async fn administration_changes_are_recorded_with_before_and_after_and_no_secret(backend: Backend) {
    // Arrange
    let app = spawn_target(backend).await;
    let admin = app.admin_token().await;
    let (password, new_password) = ("carol-first-password", "carol-second-password");

    // Act: every administration mutation once.
    let editors = json!({ "n": "editors", "p": ["blacklist:read"] });
    ok(&app, CREATE_ROLE, editors, &admin).await;
    let more = json!({ "n": "editors", "p": ["blacklist:read", "blacklist:create"] });
    ok(&app, UPDATE_ROLE, more, &admin).await;
    let carol = json!({ "i": {
        "username": "carol", "password": password, "displayName": "Carol", "orgCode": "ORG-1",
        "roles": ["editors"],
    } });
    let created = ok(&app, CREATE_USER, carol, &admin).await;
    let id = created["createUser"]["id"].as_str().expect("an id");
    let renamed = json!({ "id": id, "i": { "displayName": "Caroline", "orgCode": "ORG-1" } });
    ok(&app, UPDATE_USER, renamed, &admin).await;
    let new = json!({ "id": id, "p": new_password });
    ok(&app, SET_PASSWORD, new, &admin).await;
    ok(&app, SET_ROLES, json!({ "id": id, "r": [] }), &admin).await;
    ok(&app, DELETE_ROLE, json!({ "n": "editors" }), &admin).await;
    let secret = create_service(&app, &admin, "nightly", &["blacklist:read"]).await;
    let rotated = ok(&app, ROTATE_SERVICE, json!({ "c": "nightly" }), &admin).await;
    ok(&app, DISABLE_SERVICE, json!({ "c": "nightly" }), &admin).await;

    // Assert
    let recorded = |action, subject| detail_by_admin(&app, &admin, action, subject);
    let both = json!(["blacklist:create", "blacklist:read"]);
    assert_eq!(
        recorded("role.create", "editors").await,
        json!({ "after": { "permissions": ["blacklist:read"], "dataScope": "ALL" } })
    );
    assert_eq!(
        recorded("role.update", "editors").await,
        json!({ "permissions": { "before": ["blacklist:read"], "after": both } })
    );
    assert_eq!(
        recorded("user.create", "carol").await,
        json!({ "after": {
            "username": "carol", "displayName": "Carol", "orgCode": "ORG-1", "enabled": true,
            "roles": ["editors"],
        } })
    );
    assert_eq!(
        recorded("user.update", "carol").await,
        json!({ "displayName": { "before": "Carol", "after": "Caroline" } })
    );
    assert_eq!(recorded("user.password", "carol").await, Value::Null);
    assert_eq!(
        recorded("user.roles", "carol").await,
        json!({ "roles": { "before": ["editors"], "after": [] } })
    );
    assert_eq!(
        recorded("role.delete", "editors").await,
        json!({ "before": { "permissions": both, "dataScope": "ALL" } })
    );
    assert_eq!(
        recorded("service.create", "nightly").await,
        json!({ "after": { "permissions": ["blacklist:read"] } })
    );
    assert_eq!(recorded("service.rotate", "nightly").await, Value::Null);
    assert_eq!(
        recorded("service.disable", "nightly").await,
        json!({ "enabled": { "before": true, "after": false } })
    );
    let new_secret = rotated["rotateServiceAccountSecret"]["clientSecret"]
        .as_str()
        .expect("a secret");
    let log = whole_log(&app, &admin).await;
    for sent in [
        password,
        new_password,
        secret.as_str(),
        new_secret,
        "argon2",
    ] {
        assert!(!log.contains(sent), "`{sent}` in the log: {log}");
    }
}

async fn a_service_account_and_the_command_line_are_recorded_apart_from_users(backend: Backend) {
    // Arrange: a service account holding user:manage, made at the command line.
    let app = spawn_target(backend).await;
    let secret = app.create_service("provisioner", &["user:manage"]).await;
    let service = app.service_token("provisioner", &secret).await;

    // Act
    let erin = json!({ "i": { "username": "erin", "password": "erin-long-password" } });
    ok(&app, CREATE_USER, erin, &service).await;
    accounts::disable_user(&app.cli_state().await, "erin")
        .await
        .expect("disable at the command line");

    // Assert
    let admin = app.admin_token().await;
    let by_service = the_event(&app, &admin, "user.create", "erin").await;
    assert_eq!(
        actor(&by_service),
        (&json!("SERVICE"), &json!("provisioner"))
    );
    let made = the_event(&app, &admin, "service.create", "provisioner").await;
    assert_eq!(actor(&made), (&Value::Null, &Value::Null));
    assert_eq!(
        detail(&made),
        json!({ "after": { "permissions": ["user:manage"] } })
    );
    let disabled = the_event(&app, &admin, "user.update", "erin").await;
    assert_eq!(actor(&disabled), (&Value::Null, &Value::Null));
    assert_eq!(
        detail(&disabled),
        json!({ "enabled": { "before": true, "after": false } })
    );
    let log = whole_log(&app, &admin).await;
    assert!(
        !log.contains(&secret),
        "the client secret in the log: {log}"
    );
}

async fn a_refused_administration_change_leaves_no_line(backend: Backend) {
    // Arrange: a user whose name the second create takes again, and the only holder of `*`.
    let app = spawn_target(backend).await;
    let admin = app.admin_token().await;
    let grace = json!({ "i": { "username": "grace", "password": "grace-long-password" } });
    ok(&app, CREATE_USER, grace.clone(), &admin).await;
    let admin_id = id_of(&app, &admin, "admin").await;
    let lines_before = app.count_rows("audit_event").await;

    // Act
    let taken = app.gql(CREATE_USER, grace, Some(&admin)).await;
    let last_star = app
        .gql(SET_ROLES, json!({ "id": admin_id, "r": [] }), Some(&admin))
        .await;

    // Assert
    assert_eq!(error_code(&taken), "CONFLICT", "{taken}");
    assert_eq!(error_code(&last_star), "CONFLICT", "{last_star}");
    assert_eq!(app.count_rows("audit_event").await, lines_before);
}

/// A login whose line cannot be written answers an error and leaves no live token behind.
async fn a_login_that_cannot_be_recorded_leaves_no_token(backend: Backend) {
    // Arrange: the log's table out of the way, as a database refusing the insert would be.
    let app = spawn_target(backend).await;
    app.create_user("lena", "lena-password", &[], None, None)
        .await;
    let lena = api::db::user::find_by_username(&app.db, "lena")
        .await
        .expect("a lookup")
        .expect("lena");
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    execute(&app, &rename("audit_event", "audit_event_away")).await;

    // Act
    let login = app
        .gql(
            "mutation { login(username: \"lena\", password: \"lena-password\") { token } }",
            json!({}),
            None,
        )
        .await;

    // Assert
    execute(&app, &rename("audit_event_away", "audit_event")).await;
    assert!(
        login["data"].is_null() || login["data"]["login"].is_null(),
        "{login}"
    );
    assert!(!login["errors"].is_null(), "{login}");
    let alive = app
        .state
        .sessions
        .revoke_subject(lena.id)
        .await
        .expect("the store answers");
    assert_eq!(alive, 0, "a token outlived the failed login: {login}");
}

async fn execute(app: &TestApp, sql: &str) {
    let backend = app.db.get_database_backend();
    app.db
        .execute_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

crate::on_backends!([sqlite, postgres, mysql] [
    a_login_that_cannot_be_recorded_leaves_no_token,
    blacklist_changes_are_recorded_with_before_and_after,
    a_change_rolled_back_leaves_no_line,
    administration_changes_are_recorded_with_before_and_after_and_no_secret,
    a_service_account_and_the_command_line_are_recorded_apart_from_users,
    a_refused_administration_change_leaves_no_line,
    logins_logouts_revocations_and_denials_are_recorded_without_secrets,
    the_log_needs_audit_read_and_pages_in_order,
]);
