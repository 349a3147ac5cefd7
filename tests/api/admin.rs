//! Administration over GraphQL: users, roles, the permission list and service accounts. Each
//! field needs its own permission; nobody hands out what they lack; every reduction of rights
//! reaches live tokens before the call returns, on every instance; and `*` always keeps an
//! enabled holder, even when two requests race to remove the last two.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, spawn_app};

const NO_SUCH_ID: &str = "01970000-0000-7000-8000-000000000000";

const USERS: &str = "query($f: UserFilter, $first: Int, $after: String) {
    users(filter: $f, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id username displayName orgCode enabled roles }
    }
}";
const USER: &str =
    "query($id: ID!) { user(id: $id) { username displayName orgCode enabled roles createdAt } }";
pub(crate) const CREATE_USER: &str = "mutation($i: CreateUserInput!) {
    createUser(input: $i) { id username displayName orgCode enabled roles }
}";
pub(crate) const UPDATE_USER: &str = "mutation($id: ID!, $i: UpdateUserInput!) {
    updateUser(id: $id, input: $i) { username displayName orgCode enabled roles }
}";
pub(crate) const SET_PASSWORD: &str =
    "mutation($id: ID!, $p: String!) { setUserPassword(id: $id, password: $p) }";
pub(crate) const SET_ROLES: &str =
    "mutation($id: ID!, $r: [String!]!) { setUserRoles(id: $id, roles: $r) { username roles } }";
const ROLES: &str = "{ roles { name permissions } }";
const PERMISSIONS: &str = "{ permissions { name description } }";
pub(crate) const CREATE_ROLE: &str = "mutation($n: String!, $p: [String!]!) {
    createRole(input: { name: $n, permissions: $p }) { name permissions }
}";
pub(crate) const UPDATE_ROLE: &str = "mutation($n: String!, $p: [String!]!) {
    updateRole(name: $n, input: { permissions: $p }) { name permissions }
}";
pub(crate) const DELETE_ROLE: &str = "mutation($n: String!) { deleteRole(name: $n) }";
const SERVICE_ACCOUNTS: &str = "{ serviceAccounts { clientId permissions enabled createdAt } }";
const CREATE_SERVICE: &str = "mutation($c: String!, $p: [String!]!) {
    createServiceAccount(input: { clientId: $c, permissions: $p }) {
        clientSecret serviceAccount { clientId permissions enabled }
    }
}";
pub(crate) const ROTATE_SERVICE: &str = "mutation($c: String!) {
    rotateServiceAccountSecret(clientId: $c) { clientSecret serviceAccount { clientId enabled } }
}";
pub(crate) const DISABLE_SERVICE: &str =
    "mutation($c: String!) { disableServiceAccount(clientId: $c) { clientId enabled } }";
const SERVICE_LOGIN: &str = "mutation($c: String!, $s: String!) {
    serviceLogin(clientId: $c, clientSecret: $s) { token }
}";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const ME: &str = "{ me { username permissions } }";
const LIST: &str = "{ blacklistEntries { totalCount } }";

/// Tables an administration mutation writes, to prove a refused one wrote nothing.
const ADMIN_TABLES: [&str; 6] = [
    "app_user",
    "role",
    "user_role",
    "role_permission",
    "service_account",
    "service_account_permission",
];

/// A root field, a request that reaches it, and the permission it needs.
struct AdminField {
    name: &'static str,
    query: &'static str,
    variables: Value,
    permission: &'static str,
}

fn admin_fields() -> Vec<AdminField> {
    let field = |name, query, variables, permission| AdminField {
        name,
        query,
        variables,
        permission,
    };
    vec![
        field("users", USERS, json!({}), "user:manage"),
        field("user", USER, json!({ "id": NO_SUCH_ID }), "user:manage"),
        field(
            "createUser",
            CREATE_USER,
            json!({ "i": { "username": "made-by-guard-test", "password": "long-enough-password" } }),
            "user:manage",
        ),
        field(
            "updateUser",
            UPDATE_USER,
            json!({ "id": NO_SUCH_ID, "i": { "displayName": "x" } }),
            "user:manage",
        ),
        field(
            "setUserPassword",
            SET_PASSWORD,
            json!({ "id": NO_SUCH_ID, "p": "long-enough-password" }),
            "user:manage",
        ),
        field(
            "setUserRoles",
            SET_ROLES,
            json!({ "id": NO_SUCH_ID, "r": [] }),
            "user:manage",
        ),
        field("roles", ROLES, json!({}), "role:manage"),
        field("permissions", PERMISSIONS, json!({}), "role:manage"),
        field(
            "createRole",
            CREATE_ROLE,
            json!({ "n": "made-by-guard-test", "p": [] }),
            "role:manage",
        ),
        field(
            "updateRole",
            UPDATE_ROLE,
            json!({ "n": "no-such-role", "p": [] }),
            "role:manage",
        ),
        field(
            "deleteRole",
            DELETE_ROLE,
            json!({ "n": "no-such-role" }),
            "role:manage",
        ),
        field(
            "serviceAccounts",
            SERVICE_ACCOUNTS,
            json!({}),
            "service:manage",
        ),
        field(
            "createServiceAccount",
            CREATE_SERVICE,
            json!({ "c": "made-by-guard-test", "p": [] }),
            "service:manage",
        ),
        field(
            "rotateServiceAccountSecret",
            ROTATE_SERVICE,
            json!({ "c": "no-such-service" }),
            "service:manage",
        ),
        field(
            "disableServiceAccount",
            DISABLE_SERVICE,
            json!({ "c": "no-such-service" }),
            "service:manage",
        ),
    ]
}

const MANAGE_PERMISSIONS: [&str; 3] = ["user:manage", "role:manage", "service:manage"];

/// Runs a request that must succeed and returns its `data`.
pub(crate) async fn ok(app: &TestApp, query: &str, variables: Value, token: &str) -> Value {
    let body = app.gql(query, variables, Some(token)).await;
    assert_eq!(body["errors"], Value::Null, "{body}");
    body["data"].clone()
}

#[track_caller]
fn assert_refused(body: &Value, code: &str) {
    assert_eq!(error_code(body), code, "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
}

#[track_caller]
fn assert_forbidden(body: &Value, permission: &str) {
    assert_refused(body, "FORBIDDEN");
    assert_eq!(
        body["errors"][0]["extensions"]["permission"], permission,
        "{body}"
    );
}

/// The user's id, found through `users` with a token holding `user:manage`.
pub(crate) async fn id_of(app: &TestApp, token: &str, username: &str) -> String {
    let data = ok(
        app,
        USERS,
        json!({ "f": { "nameContains": username } }),
        token,
    )
    .await;
    data["users"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|node| node["username"] == username))
        .and_then(|node| node["id"].as_str())
        .unwrap_or_else(|| panic!("no user {username} in {data}"))
        .to_owned()
}

/// How many rows each administration table holds.
async fn admin_rows(app: &TestApp) -> Vec<i64> {
    let mut rows = Vec::new();
    for table in ADMIN_TABLES {
        rows.push(app.count_rows(table).await);
    }
    rows
}

/// Creates a service account over GraphQL and returns its secret.
pub(crate) async fn create_service(
    app: &TestApp,
    admin: &str,
    client_id: &str,
    permissions: &[&str],
) -> String {
    let data = ok(
        app,
        CREATE_SERVICE,
        json!({ "c": client_id, "p": permissions }),
        admin,
    )
    .await;
    data["createServiceAccount"]["clientSecret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret in {data}"))
        .to_owned()
}

async fn every_admin_field_needs_a_token_and_its_own_permission(backend: Backend) {
    // Arrange: for each manage permission, one user holding only it and one holding all but it.
    let app = spawn_app(backend).await;
    let mut only = Vec::new();
    let mut all_but = Vec::new();
    for (i, permission) in MANAGE_PERMISSIONS.iter().enumerate() {
        only.push(
            app.token_with_permissions(&format!("only-{i}"), &[permission])
                .await,
        );
        let mut others: Vec<&str> = MANAGE_PERMISSIONS
            .iter()
            .copied()
            .filter(|other| other != permission)
            .collect();
        others.extend(["blacklist:*", "token:revoke", "audit:read"]);
        all_but.push(
            app.token_with_permissions(&format!("all-but-{i}"), &others)
                .await,
        );
    }
    let rows_before = admin_rows(&app).await;

    for field in admin_fields() {
        let index = MANAGE_PERMISSIONS
            .iter()
            .position(|p| *p == field.permission)
            .expect("a manage permission");

        // Act
        let anonymous = app.gql(field.query, field.variables.clone(), None).await;
        let lacking = app
            .gql(field.query, field.variables.clone(), Some(&all_but[index]))
            .await;

        // Assert
        assert_eq!(
            error_code(&anonymous),
            "UNAUTHENTICATED",
            "{}: {anonymous}",
            field.name
        );
        assert_eq!(anonymous["data"], Value::Null, "{anonymous}");
        assert_forbidden(&lacking, field.permission);
        assert_eq!(
            lacking["errors"][0]["path"],
            json!([field.name]),
            "{lacking}"
        );
    }
    assert_eq!(admin_rows(&app).await, rows_before, "a refused call wrote");

    // With only its permission, every field gets past its guard.
    for field in admin_fields() {
        let index = MANAGE_PERMISSIONS
            .iter()
            .position(|p| *p == field.permission)
            .expect("a manage permission");
        let body = app
            .gql(field.query, field.variables.clone(), Some(&only[index]))
            .await;
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        assert!(
            !matches!(code, "FORBIDDEN" | "UNAUTHENTICATED"),
            "{}: {body}",
            field.name
        );
    }
}

async fn an_administrator_creates_a_user_who_logs_in_with_the_roles_given(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    ok(
        &app,
        CREATE_ROLE,
        json!({ "n": "readers", "p": ["blacklist:read"] }),
        &admin,
    )
    .await;

    // Act
    let created = ok(
        &app,
        CREATE_USER,
        json!({ "i": {
            "username": " Alice ", "password": "alice-password", "displayName": "Alice A.",
            "orgCode": "ORG-7", "roles": ["readers", "readers"],
        } }),
        &admin,
    )
    .await;
    let id = created["createUser"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let read = ok(&app, USER, json!({ "id": id }), &admin).await;
    let token = app.login("alice", "alice-password").await;
    let me = ok(&app, ME, json!({}), &token).await;
    let missing = ok(&app, USER, json!({ "id": NO_SUCH_ID }), &admin).await;

    // Assert
    assert_eq!(
        created["createUser"],
        json!({
            "id": id, "username": "alice", "displayName": "Alice A.", "orgCode": "ORG-7",
            "enabled": true, "roles": ["readers"],
        })
    );
    assert_eq!(read["user"]["username"], "alice");
    assert_eq!(read["user"]["roles"], json!(["readers"]));
    assert!(read["user"]["createdAt"].is_string(), "{read}");
    assert_eq!(
        me,
        json!({ "me": { "username": "alice", "permissions": ["blacklist:read"] } })
    );
    assert_eq!(missing, json!({ "user": null }));
}

async fn users_are_listed_oldest_first_and_filtered_by_name_org_and_enabled(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    for (name, org) in [("carol", "ORG-1"), ("dave", "ORG-2"), ("caroline", "ORG-2")] {
        app.create_user(name, "long-enough-password", &[], Some(org), None)
            .await;
    }
    let dave = id_of(&app, &admin, "dave").await;
    ok(
        &app,
        UPDATE_USER,
        json!({ "id": dave, "i": { "enabled": false } }),
        &admin,
    )
    .await;
    let names = |data: &Value| -> Vec<String> {
        data["users"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| node["username"].as_str().expect("a username").to_owned())
            .collect()
    };

    // Act
    let all = ok(&app, USERS, json!({}), &admin).await;
    let first_page = ok(&app, USERS, json!({ "first": 2 }), &admin).await;
    let cursor = first_page["users"]["pageInfo"]["endCursor"].clone();
    let second_page = ok(&app, USERS, json!({ "first": 2, "after": cursor }), &admin).await;
    let by_name = ok(
        &app,
        USERS,
        json!({ "f": { "nameContains": "CAROL" } }),
        &admin,
    )
    .await;
    let by_display_name = ok(
        &app,
        USERS,
        json!({ "f": { "nameContains": "Dave Disp" } }),
        &admin,
    )
    .await;
    let by_org = ok(&app, USERS, json!({ "f": { "orgCode": "ORG-2" } }), &admin).await;
    let disabled = ok(&app, USERS, json!({ "f": { "enabled": false } }), &admin).await;
    let wildcard = ok(&app, USERS, json!({ "f": { "nameContains": "%" } }), &admin).await;

    // Assert
    assert_eq!(names(&all), ["admin", "carol", "dave", "caroline"]);
    assert_eq!(all["users"]["totalCount"], 4);
    assert_eq!(names(&first_page), ["admin", "carol"]);
    assert_eq!(first_page["users"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(names(&second_page), ["dave", "caroline"]);
    assert_eq!(second_page["users"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(names(&by_name), ["carol", "caroline"]);
    assert_eq!(names(&by_display_name), ["dave"]);
    assert_eq!(names(&by_org), ["dave", "caroline"]);
    assert_eq!(names(&disabled), ["dave"]);
    assert_eq!(names(&wildcard), Vec::<String>::new());
    assert_eq!(all["users"]["nodes"][0]["roles"], json!(["admin"]));
}

async fn updating_a_user_changes_only_the_fields_sent(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    app.create_user("erin", "long-enough-password", &[], Some("ORG-1"), None)
        .await;
    let erin = id_of(&app, &admin, "erin").await;

    // Act
    let renamed = ok(
        &app,
        UPDATE_USER,
        json!({ "id": erin, "i": { "displayName": "Erin E." } }),
        &admin,
    )
    .await;
    let cleared = ok(
        &app,
        UPDATE_USER,
        json!({ "id": erin, "i": { "orgCode": null } }),
        &admin,
    )
    .await;

    // Assert
    assert_eq!(
        renamed["updateUser"],
        json!({ "username": "erin", "displayName": "Erin E.", "orgCode": "ORG-1", "enabled": true, "roles": [] })
    );
    assert_eq!(
        cleared["updateUser"],
        json!({ "username": "erin", "displayName": "Erin E.", "orgCode": null, "enabled": true, "roles": [] })
    );
}

async fn a_new_password_replaces_the_old_one(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    app.create_user("frank", "old-password", &[], None, None)
        .await;
    let frank = id_of(&app, &admin, "frank").await;

    // Act
    let set = ok(
        &app,
        SET_PASSWORD,
        json!({ "id": frank, "p": "new-password" }),
        &admin,
    )
    .await;
    let with_old = app
        .gql(LOGIN, json!({ "u": "frank", "p": "old-password" }), None)
        .await;

    // Assert
    assert_eq!(set, json!({ "setUserPassword": true }));
    assert_refused(&with_old, "UNAUTHENTICATED");
    app.login("frank", "new-password").await;
}

async fn bad_input_is_refused_with_its_code_and_writes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    app.create_user(
        "grace",
        "long-enough-password",
        &["blacklist:read"],
        None,
        None,
    )
    .await;
    create_service(&app, &admin, "reporter", &["blacklist:read"]).await;
    let grace = id_of(&app, &admin, "grace").await;
    let rows_before = admin_rows(&app).await;
    let user = |fields: Value| {
        let mut input = json!({ "username": "newcomer", "password": "long-enough-password" });
        for (key, value) in fields.as_object().expect("an object") {
            input[key] = value.clone();
        }
        json!({ "i": input })
    };
    let cases: Vec<(&str, Value, &str, Option<&str>)> = vec![
        (
            CREATE_USER,
            user(json!({ "username": "GRACE" })),
            "CONFLICT",
            None,
        ),
        (
            CREATE_USER,
            user(json!({ "roles": ["no-such-role"] })),
            "BAD_USER_INPUT",
            Some("roles"),
        ),
        (
            CREATE_USER,
            user(json!({ "password": "" })),
            "BAD_USER_INPUT",
            Some("password"),
        ),
        (
            CREATE_USER,
            user(json!({ "password": "x".repeat(257) })),
            "BAD_USER_INPUT",
            Some("password"),
        ),
        (
            CREATE_USER,
            user(json!({ "username": "no spaces" })),
            "BAD_USER_INPUT",
            Some("username"),
        ),
        (
            CREATE_USER,
            user(json!({ "displayName": "d".repeat(129) })),
            "BAD_USER_INPUT",
            Some("displayName"),
        ),
        (
            CREATE_USER,
            user(json!({ "orgCode": "o".repeat(65) })),
            "BAD_USER_INPUT",
            Some("orgCode"),
        ),
        (
            UPDATE_USER,
            json!({ "id": "not-an-id", "i": {} }),
            "BAD_USER_INPUT",
            Some("id"),
        ),
        (
            UPDATE_USER,
            json!({ "id": NO_SUCH_ID, "i": { "enabled": false } }),
            "NOT_FOUND",
            None,
        ),
        (
            UPDATE_USER,
            json!({ "id": grace, "i": { "displayName": "  " } }),
            "BAD_USER_INPUT",
            Some("displayName"),
        ),
        (
            SET_PASSWORD,
            json!({ "id": grace, "p": "" }),
            "BAD_USER_INPUT",
            Some("password"),
        ),
        (
            SET_PASSWORD,
            json!({ "id": NO_SUCH_ID, "p": "long-enough-password" }),
            "NOT_FOUND",
            None,
        ),
        (
            SET_ROLES,
            json!({ "id": grace, "r": ["grace-role", "no-such-role"] }),
            "BAD_USER_INPUT",
            Some("roles"),
        ),
        (
            SET_ROLES,
            json!({ "id": NO_SUCH_ID, "r": [] }),
            "NOT_FOUND",
            None,
        ),
        (
            CREATE_ROLE,
            json!({ "n": "grace-role", "p": [] }),
            "CONFLICT",
            None,
        ),
        (
            CREATE_ROLE,
            json!({ "n": "fresh", "p": ["blacklist"] }),
            "BAD_USER_INPUT",
            Some("permission"),
        ),
        (
            CREATE_ROLE,
            json!({ "n": "fresh", "p": [format!("a:{}", "b".repeat(200))] }),
            "BAD_USER_INPUT",
            Some("permission"),
        ),
        (
            CREATE_ROLE,
            json!({ "n": "r".repeat(65), "p": [] }),
            "BAD_USER_INPUT",
            Some("name"),
        ),
        (
            UPDATE_ROLE,
            json!({ "n": "grace-role", "p": ["blacklist:read", "*:*"] }),
            "BAD_USER_INPUT",
            Some("permission"),
        ),
        (
            UPDATE_ROLE,
            json!({ "n": "no-such-role", "p": [] }),
            "NOT_FOUND",
            None,
        ),
        (
            DELETE_ROLE,
            json!({ "n": "no-such-role" }),
            "NOT_FOUND",
            None,
        ),
        (
            CREATE_SERVICE,
            json!({ "c": "REPORTER", "p": [] }),
            "CONFLICT",
            None,
        ),
        (
            CREATE_SERVICE,
            json!({ "c": "fresh", "p": ["nope"] }),
            "BAD_USER_INPUT",
            Some("permission"),
        ),
        (
            CREATE_SERVICE,
            json!({ "c": "bad id", "p": [] }),
            "BAD_USER_INPUT",
            Some("clientId"),
        ),
        (
            ROTATE_SERVICE,
            json!({ "c": "no-such-service" }),
            "NOT_FOUND",
            None,
        ),
        (
            DISABLE_SERVICE,
            json!({ "c": "no-such-service" }),
            "NOT_FOUND",
            None,
        ),
    ];

    for (query, variables, code, field) in cases {
        // Act
        let body = app.gql(query, variables.clone(), Some(&admin)).await;

        // Assert
        assert_eq!(error_code(&body), code, "{variables}: {body}");
        assert_eq!(body["data"], Value::Null, "{body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    assert_eq!(admin_rows(&app).await, rows_before, "a refused call wrote");
    let me = ok(&app, USER, json!({ "id": grace }), &admin).await;
    assert_eq!(me["user"]["roles"], json!(["grace-role"]));
}

async fn roles_are_created_listed_updated_and_deleted(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let created = ok(
        &app,
        CREATE_ROLE,
        json!({ "n": "Auditors", "p": ["blacklist:read", "audit:read", "blacklist:read"] }),
        &admin,
    )
    .await;
    let listed = ok(&app, ROLES, json!({}), &admin).await;
    let updated = ok(
        &app,
        UPDATE_ROLE,
        json!({ "n": "auditors", "p": ["blacklist:*"] }),
        &admin,
    )
    .await;
    let deleted = ok(&app, DELETE_ROLE, json!({ "n": "auditors" }), &admin).await;
    let after = ok(&app, ROLES, json!({}), &admin).await;

    // Assert
    assert_eq!(
        created["createRole"],
        json!({ "name": "auditors", "permissions": ["audit:read", "blacklist:read"] })
    );
    assert_eq!(
        listed["roles"],
        json!([
            { "name": "admin", "permissions": ["*"] },
            { "name": "auditors", "permissions": ["audit:read", "blacklist:read"] },
        ])
    );
    assert_eq!(
        updated["updateRole"],
        json!({ "name": "auditors", "permissions": ["blacklist:*"] })
    );
    assert_eq!(deleted, json!({ "deleteRole": "auditors" }));
    assert_eq!(
        after["roles"],
        json!([{ "name": "admin", "permissions": ["*"] }])
    );
}

async fn the_permission_list_names_every_permission_the_server_checks(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app
        .token_with_permissions("role-editor", &["role:manage"])
        .await;

    // Act
    let data = ok(&app, PERMISSIONS, json!({}), &token).await;

    // Assert
    let listed = data["permissions"].as_array().expect("a list");
    let names: Vec<&str> = listed.iter().filter_map(|p| p["name"].as_str()).collect();
    for expected in [
        "*",
        "blacklist:read",
        "blacklist:create",
        "blacklist:update",
        "blacklist:delete",
        "token:revoke",
        "user:manage",
        "role:manage",
        "service:manage",
        "audit:read",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {data}");
    }
    for permission in listed {
        assert!(
            permission["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{permission}"
        );
    }
}

async fn service_accounts_are_created_listed_rotated_and_disabled(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let created = ok(
        &app,
        CREATE_SERVICE,
        json!({ "c": "Nightly", "p": ["blacklist:read"] }),
        &admin,
    )
    .await;
    let secret = created["createServiceAccount"]["clientSecret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let token = app.service_token("nightly", &secret).await;
    let listed = ok(&app, SERVICE_ACCOUNTS, json!({}), &admin).await;
    let rotated = ok(&app, ROTATE_SERVICE, json!({ "c": "nightly" }), &admin).await;
    let new_secret = rotated["rotateServiceAccountSecret"]["clientSecret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let with_old = app
        .gql(SERVICE_LOGIN, json!({ "c": "nightly", "s": secret }), None)
        .await;
    let new_token = app.service_token("nightly", &new_secret).await;
    let disabled = ok(&app, DISABLE_SERVICE, json!({ "c": "nightly" }), &admin).await;
    let with_new = app
        .gql(
            SERVICE_LOGIN,
            json!({ "c": "nightly", "s": new_secret }),
            None,
        )
        .await;
    let listed_after = ok(&app, SERVICE_ACCOUNTS, json!({}), &admin).await;

    // Assert
    assert_eq!(
        created["createServiceAccount"]["serviceAccount"],
        json!({ "clientId": "nightly", "permissions": ["blacklist:read"], "enabled": true })
    );
    assert!(!token.is_empty() && !new_token.is_empty());
    assert_eq!(listed["serviceAccounts"][0]["clientId"], "nightly");
    assert_eq!(
        listed["serviceAccounts"][0]["permissions"],
        json!(["blacklist:read"])
    );
    assert!(
        listed["serviceAccounts"][0]["createdAt"].is_string(),
        "{listed}"
    );
    assert_ne!(new_secret, secret);
    assert_eq!(
        rotated["rotateServiceAccountSecret"]["serviceAccount"],
        json!({ "clientId": "nightly", "enabled": true })
    );
    assert_refused(&with_old, "UNAUTHENTICATED");
    assert_eq!(
        disabled,
        json!({ "disableServiceAccount": { "clientId": "nightly", "enabled": false } })
    );
    assert_refused(&with_new, "UNAUTHENTICATED");
    assert_eq!(listed_after["serviceAccounts"][0]["enabled"], false);
    // The secret is shown once: no field of the account holds it.
    assert!(!listed.to_string().contains(&secret), "{listed}");
}

async fn nobody_grants_a_permission_they_do_not_hold(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let role_manager = app
        .token_with_permissions("role-manager", &["role:manage", "blacklist:read"])
        .await;
    let user_manager = app
        .token_with_permissions("user-manager", &["user:manage", "blacklist:read"])
        .await;
    let service_manager = app
        .token_with_permissions("service-manager", &["service:manage", "blacklist:read"])
        .await;
    ok(
        &app,
        CREATE_ROLE,
        json!({ "n": "deleters", "p": ["blacklist:delete"] }),
        &admin,
    )
    .await;
    app.create_user("target", "long-enough-password", &[], None, None)
        .await;
    let target = id_of(&app, &user_manager, "target").await;
    let rows_before = admin_rows(&app).await;

    // Act
    let new_role = app
        .gql(
            CREATE_ROLE,
            json!({ "n": "sneaky", "p": ["blacklist:read", "blacklist:delete"] }),
            Some(&role_manager),
        )
        .await;
    let wildcard_role = app
        .gql(
            CREATE_ROLE,
            json!({ "n": "sneaky", "p": ["blacklist:*"] }),
            Some(&role_manager),
        )
        .await;
    let widened_role = app
        .gql(
            UPDATE_ROLE,
            json!({ "n": "role-manager-role", "p": ["role:manage", "blacklist:read", "*"] }),
            Some(&role_manager),
        )
        .await;
    let given_role = app
        .gql(
            SET_ROLES,
            json!({ "id": target, "r": ["admin"] }),
            Some(&user_manager),
        )
        .await;
    let created_user = app
        .gql(
            CREATE_USER,
            json!({ "i": { "username": "sneaky", "password": "long-enough-password", "roles": ["deleters"] } }),
            Some(&user_manager),
        )
        .await;
    let service = app
        .gql(
            CREATE_SERVICE,
            json!({ "c": "sneaky", "p": ["blacklist:delete"] }),
            Some(&service_manager),
        )
        .await;
    let rows_after = admin_rows(&app).await;
    let allowed_role = app
        .gql(
            CREATE_ROLE,
            json!({ "n": "readers", "p": ["blacklist:read"] }),
            Some(&role_manager),
        )
        .await;
    // Withdrawing what one does not hold is no grant.
    let narrowed = app
        .gql(
            UPDATE_ROLE,
            json!({ "n": "deleters", "p": [] }),
            Some(&role_manager),
        )
        .await;

    // Assert
    assert_forbidden(&new_role, "blacklist:delete");
    assert_forbidden(&wildcard_role, "blacklist:*");
    assert_forbidden(&widened_role, "*");
    assert_forbidden(&given_role, "*");
    assert_forbidden(&created_user, "blacklist:delete");
    assert_forbidden(&service, "blacklist:delete");
    assert_eq!(rows_after, rows_before, "a refused grant wrote");
    assert_eq!(allowed_role["errors"], Value::Null, "{allowed_role}");
    assert_eq!(narrowed["errors"], Value::Null, "{narrowed}");
}

/// Each way an administrator reduces rights, made on `admin_app` while the victim's token is
/// used on `victim_app` (the same server, or a replica sharing Redis): refused on the very next
/// request, with no waiting.
async fn reductions_reach_the_next_request(admin_app: &TestApp, victim_app: &TestApp) {
    let admin = admin_app.admin_token().await;
    let forbidden = |body: &Value| assert_forbidden(body, "blacklist:read");
    let dead = |body: &Value| assert_refused(body, "UNAUTHENTICATED");
    let users = [
        "lose-role",
        "role-narrowed",
        "role-deleted",
        "disabled",
        "new-password",
    ];
    let mut tokens = Vec::new();
    for user in users {
        tokens.push(
            victim_app
                .token_with_permissions(user, &["blacklist:read"])
                .await,
        );
    }
    let rotated_secret = create_service(admin_app, &admin, "rotated", &["blacklist:read"]).await;
    let disabled_secret =
        create_service(admin_app, &admin, "disabled-svc", &["blacklist:read"]).await;
    tokens.push(victim_app.service_token("rotated", &rotated_secret).await);
    tokens.push(
        victim_app
            .service_token("disabled-svc", &disabled_secret)
            .await,
    );
    for token in &tokens {
        assert_eq!(
            victim_app.gql(LIST, json!({}), Some(token)).await["errors"],
            Value::Null
        );
    }
    let mut ids = Vec::new();
    for user in users {
        ids.push(id_of(admin_app, &admin, user).await);
    }

    ok(
        admin_app,
        SET_ROLES,
        json!({ "id": ids[0], "r": [] }),
        &admin,
    )
    .await;
    forbidden(&victim_app.gql(LIST, json!({}), Some(&tokens[0])).await);

    ok(
        admin_app,
        UPDATE_ROLE,
        json!({ "n": "role-narrowed-role", "p": [] }),
        &admin,
    )
    .await;
    forbidden(&victim_app.gql(LIST, json!({}), Some(&tokens[1])).await);

    ok(
        admin_app,
        DELETE_ROLE,
        json!({ "n": "role-deleted-role" }),
        &admin,
    )
    .await;
    forbidden(&victim_app.gql(LIST, json!({}), Some(&tokens[2])).await);

    ok(
        admin_app,
        UPDATE_USER,
        json!({ "id": ids[3], "i": { "enabled": false } }),
        &admin,
    )
    .await;
    dead(&victim_app.gql(LIST, json!({}), Some(&tokens[3])).await);

    ok(
        admin_app,
        SET_PASSWORD,
        json!({ "id": ids[4], "p": "another-password" }),
        &admin,
    )
    .await;
    dead(&victim_app.gql(LIST, json!({}), Some(&tokens[4])).await);

    ok(admin_app, ROTATE_SERVICE, json!({ "c": "rotated" }), &admin).await;
    dead(&victim_app.gql(LIST, json!({}), Some(&tokens[5])).await);

    ok(
        admin_app,
        DISABLE_SERVICE,
        json!({ "c": "disabled-svc" }),
        &admin,
    )
    .await;
    dead(&victim_app.gql(LIST, json!({}), Some(&tokens[6])).await);

    // The administrator's own token was never touched.
    assert_eq!(
        victim_app.gql(LIST, json!({}), Some(&admin)).await["errors"],
        Value::Null
    );
}

async fn each_reduction_of_rights_is_refused_on_the_very_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    reductions_reach_the_next_request(&app, &app).await;
}

async fn each_reduction_made_on_one_instance_is_refused_by_another_at_once(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = a.spawn_replica().await;
    reductions_reach_the_next_request(&a, &b).await;
}

async fn the_last_enabled_holder_of_star_cannot_be_removed(backend: Backend) {
    // Arrange: `admin` is the only user holding `*`.
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let admin_id = id_of(&app, &admin, "admin").await;
    let rows_before = admin_rows(&app).await;

    // Act
    let attempts = [
        app.gql(SET_ROLES, json!({ "id": admin_id, "r": [] }), Some(&admin))
            .await,
        app.gql(
            UPDATE_ROLE,
            json!({ "n": "admin", "p": ["user:manage"] }),
            Some(&admin),
        )
        .await,
        app.gql(DELETE_ROLE, json!({ "n": "admin" }), Some(&admin))
            .await,
        app.gql(
            UPDATE_USER,
            json!({ "id": admin_id, "i": { "enabled": false } }),
            Some(&admin),
        )
        .await,
    ];
    let me = ok(&app, ME, json!({}), &admin).await;

    // Assert
    for body in &attempts {
        assert_refused(body, "CONFLICT");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains('*')),
            "{body}"
        );
    }
    assert_eq!(admin_rows(&app).await, rows_before);
    assert_eq!(
        me,
        json!({ "me": { "username": "admin", "permissions": ["*"] } })
    );

    // With a second holder, either may go, but not both.
    ok(
        &app,
        CREATE_USER,
        json!({ "i": { "username": "deputy", "password": "deputy-password", "roles": ["admin"] } }),
        &admin,
    )
    .await;
    let deputy = app.login("deputy", "deputy-password").await;
    let deputy_id = id_of(&app, &deputy, "deputy").await;
    ok(&app, SET_ROLES, json!({ "id": admin_id, "r": [] }), &deputy).await;
    // A disabled holder does not count: `*` on an account nobody can use saves nobody.
    let dormant = ok(
        &app,
        CREATE_USER,
        json!({ "i": { "username": "dormant", "password": "dormant-password", "roles": ["admin"] } }),
        &deputy,
    )
    .await;
    let dormant_id = dormant["createUser"]["id"].clone();
    ok(
        &app,
        UPDATE_USER,
        json!({ "id": dormant_id, "i": { "enabled": false } }),
        &deputy,
    )
    .await;
    let last = app
        .gql(
            UPDATE_USER,
            json!({ "id": deputy_id, "i": { "enabled": false } }),
            Some(&deputy),
        )
        .await;
    assert_refused(&last, "CONFLICT");
    assert_eq!(
        ok(&app, ME, json!({}), &deputy).await,
        json!({ "me": { "username": "deputy", "permissions": ["*"] } })
    );
}

/// How many races the concurrency test runs: one already caught a check made outside the lock.
const RACES: usize = 4;

async fn two_concurrent_removals_of_the_two_holders_of_star_do_not_both_succeed(backend: Backend) {
    // Arrange: `admin` and `deputy` hold `*`; a manager (without `*`) removes both at once.
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    ok(
        &app,
        CREATE_USER,
        json!({ "i": { "username": "deputy", "password": "deputy-password", "roles": ["admin"] } }),
        &admin,
    )
    .await;
    let manager = app
        .token_with_permissions("manager", &["user:manage"])
        .await;
    let admin_id = id_of(&app, &manager, "admin").await;
    let deputy_id = id_of(&app, &manager, "deputy").await;

    for race in 0..RACES {
        // Act
        let (first, second) = tokio::join!(
            app.gql(
                SET_ROLES,
                json!({ "id": admin_id, "r": [] }),
                Some(&manager)
            ),
            app.gql(
                UPDATE_USER,
                json!({ "id": deputy_id, "i": { "enabled": false } }),
                Some(&manager)
            ),
        );

        // Assert
        let outcomes = [&first, &second];
        let succeeded = outcomes.iter().filter(|b| b["errors"].is_null()).count();
        assert_eq!(succeeded, 1, "race {race}:\n{first}\n{second}");
        let refused = outcomes
            .iter()
            .find(|b| !b["errors"].is_null())
            .expect("one refused");
        assert_refused(refused, "CONFLICT");
        let admin_now = ok(&app, USER, json!({ "id": admin_id }), &manager).await;
        let deputy_now = ok(&app, USER, json!({ "id": deputy_id }), &manager).await;
        let holding = |u: &Value| u["enabled"] == true && u["roles"] == json!(["admin"]);
        assert_ne!(
            holding(&admin_now["user"]),
            holding(&deputy_now["user"]),
            "race {race}: exactly one keeps `*`: {admin_now} {deputy_now}"
        );

        // The survivor puts the other back for the next race.
        if holding(&admin_now["user"]) {
            let survivor = app.admin_token().await;
            let restore = json!({ "id": deputy_id, "i": { "enabled": true } });
            ok(&app, UPDATE_USER, restore, &survivor).await;
        } else {
            let survivor = app.login("deputy", "deputy-password").await;
            let restore = json!({ "id": admin_id, "r": ["admin"] });
            ok(&app, SET_ROLES, restore, &survivor).await;
        }
    }
}

crate::on_backends!([sqlite, postgres, mysql] [
    every_admin_field_needs_a_token_and_its_own_permission,
    an_administrator_creates_a_user_who_logs_in_with_the_roles_given,
    users_are_listed_oldest_first_and_filtered_by_name_org_and_enabled,
    updating_a_user_changes_only_the_fields_sent,
    a_new_password_replaces_the_old_one,
    bad_input_is_refused_with_its_code_and_writes_nothing,
    roles_are_created_listed_updated_and_deleted,
    the_permission_list_names_every_permission_the_server_checks,
    service_accounts_are_created_listed_rotated_and_disabled,
    nobody_grants_a_permission_they_do_not_hold,
    each_reduction_of_rights_is_refused_on_the_very_next_request,
    the_last_enabled_holder_of_star_cannot_be_removed,
    two_concurrent_removals_of_the_two_holders_of_star_do_not_both_succeed,
]);

/// Several instances share tokens only through Redis, so these run where there is one.
mod replicas {
    use super::*;

    crate::on_backends!([postgres, mysql] [
        each_reduction_made_on_one_instance_is_refused_by_another_at_once,
    ]);
}
