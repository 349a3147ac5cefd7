//! Data scope: a role limited to `ORG` reaches only the blacklist entries of its holder's
//! organisation. Out-of-scope entries are absent from lists and subscriptions and NOT_FOUND by
//! id, for reads, updates and deletes alike; a change of scope or of the holder's organisation
//! reaches live tokens on every instance at once; and nobody widens a scope beyond their own.

use serde_json::json;

use crate::{
    admin::ok,
    helpers::{Backend, TestApp, error_code, spawn_app},
    subscriptions::{closed, create_entry, receive, subscribed},
};

const CREATE_ROLE: &str = "mutation($n: String!, $p: [String!]!, $s: DataScope) {
    createRole(input: { name: $n, permissions: $p, dataScope: $s }) { name permissions dataScope }
}";
const SET_SCOPE: &str = "mutation($n: String!, $s: DataScope!) {
    updateRole(name: $n, input: { dataScope: $s }) { name dataScope }
}";
const CREATE_USER: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }";
const MOVE_USER: &str =
    "mutation($id: ID!, $o: String) { updateUser(id: $id, input: { orgCode: $o }) { orgCode } }";
const LIST: &str = "{ blacklistEntries(first: 100) { totalCount nodes { ip orgCode } } }";
const ONE: &str = "query($id: ID!) { blacklistEntry(id: $id) { ip } }";
const UPDATE: &str =
    "mutation($id: ID!) { updateBlacklistEntry(id: $id, input: { remark: \"seen\" }) { ip } }";
const DELETE: &str = "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }";

const ORG_ROLE: &str = "org-keeper";
const BLACKLIST_ALL: [&str; 4] = [
    "blacklist:read",
    "blacklist:create",
    "blacklist:update",
    "blacklist:delete",
];

/// Organisation A's keeper and B's, both holding the blacklist through one `ORG` role, and one
/// entry of each organisation.
struct Orgs {
    admin: String,
    alice: String,
    alice_id: String,
    bob: String,
    bob_id: String,
    a_entry: String,
    b_entry: String,
}

/// Creates `username` in `org` holding `roles` and logs it in; returns its id and token.
async fn member(
    app: &TestApp,
    admin: &str,
    username: &str,
    org: Option<&str>,
    roles: &[&str],
) -> (String, String) {
    let password = format!("{username}-password");
    let input =
        json!({ "username": username, "password": password, "orgCode": org, "roles": roles });
    let created = ok(app, CREATE_USER, json!({ "i": input }), admin).await;
    let id = created["createUser"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    (id, app.login(username, &password).await)
}

async fn two_organisations(app: &TestApp) -> Orgs {
    let admin = app.admin_token().await;
    let role = json!({ "n": ORG_ROLE, "p": BLACKLIST_ALL, "s": "ORG" });
    let created = ok(app, CREATE_ROLE, role, &admin).await;
    assert_eq!(created["createRole"]["dataScope"], "ORG");
    let (alice_id, alice) = member(app, &admin, "alice", Some("A01"), &[ORG_ROLE]).await;
    let (bob_id, bob) = member(app, &admin, "bob", Some("B02"), &[ORG_ROLE]).await;
    let a_entry = create_entry(app, &alice, "192.0.2.1").await;
    let b_entry = create_entry(app, &bob, "192.0.2.2").await;
    Orgs {
        admin,
        alice,
        alice_id,
        bob,
        bob_id,
        a_entry,
        b_entry,
    }
}

/// The addresses `token` lists, after checking the count agrees.
async fn listed(app: &TestApp, token: &str) -> Vec<String> {
    let page = ok(app, LIST, json!({}), token).await["blacklistEntries"].clone();
    let ips: Vec<String> = page["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["ip"].as_str().expect("an ip").to_owned())
        .collect();
    assert_eq!(page["totalCount"], ips.len(), "{page}");
    ips
}

async fn an_org_scoped_role_reads_and_changes_only_its_organisations_entries(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let admin_entry = create_entry(&app, &orgs.admin, "192.0.2.3").await;

    // Act
    let alice_sees = listed(&app, &orgs.alice).await;
    let one_of_b = app
        .gql(ONE, json!({ "id": orgs.b_entry }), Some(&orgs.alice))
        .await;
    let own = app
        .gql(ONE, json!({ "id": orgs.a_entry }), Some(&orgs.alice))
        .await;
    let admins = app
        .gql(ONE, json!({ "id": admin_entry }), Some(&orgs.alice))
        .await;
    let update_b = app
        .gql(UPDATE, json!({ "id": orgs.b_entry }), Some(&orgs.alice))
        .await;
    let delete_b = app
        .gql(DELETE, json!({ "id": orgs.b_entry }), Some(&orgs.alice))
        .await;
    let update_own = app
        .gql(UPDATE, json!({ "id": orgs.a_entry }), Some(&orgs.alice))
        .await;

    // Assert
    let me = ok(
        &app,
        "{ me { orgCode orgOnlyPermissions } }",
        json!({}),
        &orgs.alice,
    )
    .await;
    let mut org_only = BLACKLIST_ALL.to_vec();
    org_only.sort_unstable();
    assert_eq!(
        me["me"],
        json!({ "orgCode": "A01", "orgOnlyPermissions": org_only })
    );
    assert_eq!(alice_sees, ["192.0.2.1"]);
    assert_eq!(listed(&app, &orgs.bob).await, ["192.0.2.2"]);
    assert_eq!(listed(&app, &orgs.admin).await.len(), 3);
    assert_eq!(one_of_b, json!({ "data": { "blacklistEntry": null } }));
    assert_eq!(admins, json!({ "data": { "blacklistEntry": null } }));
    assert_eq!(own["data"]["blacklistEntry"]["ip"], "192.0.2.1", "{own}");
    assert_eq!(error_code(&update_b), "NOT_FOUND");
    assert_eq!(error_code(&delete_b), "NOT_FOUND");
    assert!(update_own["errors"].is_null(), "{update_own}");
    let still_there = ok(&app, ONE, json!({ "id": orgs.b_entry }), &orgs.bob).await;
    assert_eq!(still_there["blacklistEntry"]["ip"], "192.0.2.2");
    let deleted = app
        .gql(DELETE, json!({ "id": orgs.a_entry }), Some(&orgs.alice))
        .await;
    assert!(deleted["errors"].is_null(), "{deleted}");
}

async fn a_holder_of_no_organisation_reaches_no_entry(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let (_, nobody) = member(&app, &orgs.admin, "carol", None, &[ORG_ROLE]).await;

    // Act
    let listed_by_nobody = listed(&app, &nobody).await;
    let one = app
        .gql(ONE, json!({ "id": orgs.a_entry }), Some(&nobody))
        .await;
    let created = create_entry(&app, &nobody, "192.0.2.9").await;
    let own = app.gql(ONE, json!({ "id": created }), Some(&nobody)).await;

    // Assert
    assert!(listed_by_nobody.is_empty(), "{listed_by_nobody:?}");
    assert_eq!(one, json!({ "data": { "blacklistEntry": null } }));
    assert_eq!(own, json!({ "data": { "blacklistEntry": null } }));
}

/// Scope and organisation changes made on `admin_app` reach alice's next request on `alice_app`.
async fn scope_changes_reach_the_next_request(admin_app: &TestApp, alice_app: &TestApp) {
    let orgs = two_organisations(admin_app).await;
    let widen = json!({ "n": ORG_ROLE, "s": "ALL" });
    ok(admin_app, SET_SCOPE, widen, &orgs.admin).await;
    assert_eq!(listed(alice_app, &orgs.alice).await.len(), 2);
    let narrow = json!({ "n": ORG_ROLE, "s": "ORG" });
    ok(admin_app, SET_SCOPE, narrow, &orgs.admin).await;
    assert_eq!(listed(alice_app, &orgs.alice).await, ["192.0.2.1"]);
    let moved = json!({ "id": orgs.alice_id, "o": "B02" });
    ok(admin_app, MOVE_USER, moved, &orgs.admin).await;
    assert_eq!(listed(alice_app, &orgs.alice).await, ["192.0.2.2"]);
    let old = alice_app
        .gql(UPDATE, json!({ "id": orgs.a_entry }), Some(&orgs.alice))
        .await;
    assert_eq!(error_code(&old), "NOT_FOUND");
}

async fn a_narrowed_scope_or_a_move_is_seen_on_the_very_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    scope_changes_reach_the_next_request(&app, &app).await;
}

async fn a_narrowed_scope_on_one_instance_is_seen_by_another_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    scope_changes_reach_the_next_request(&app, &app.spawn_replica().await).await;
}

async fn a_subscriber_receives_only_its_organisations_changes(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let mut socket = subscribed(&app, &orgs.alice).await;

    // Act
    create_entry(&app, &orgs.bob, "198.51.100.2").await;
    create_entry(&app, &orgs.admin, "198.51.100.3").await;
    create_entry(&app, &orgs.alice, "198.51.100.1").await;

    // Assert: the first event alice receives is her own; the others were never sent.
    let first = receive(&mut socket).await;
    assert_eq!(
        first["payload"]["data"]["blacklistChanged"]["entry"]["ip"], "198.51.100.1",
        "{first}"
    );
}

async fn a_subscription_opened_with_a_wider_reach_is_closed_when_it_narrows(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let widen = json!({ "n": ORG_ROLE, "s": "ALL" });
    ok(&app, SET_SCOPE, widen, &orgs.admin).await;
    let mut socket = subscribed(&app, &orgs.alice).await;

    // Act
    let narrow = json!({ "n": ORG_ROLE, "s": "ORG" });
    ok(&app, SET_SCOPE, narrow, &orgs.admin).await;

    // Assert
    assert_eq!(closed(&mut socket).await.0, 4403);
}

async fn nobody_widens_a_scope_beyond_their_own(backend: Backend) {
    // Arrange: a role administrator whose blacklist rights are limited to its organisation.
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let role_admin = json!({ "n": "role-admin", "p": ["role:manage"], "s": "ALL" });
    ok(&app, CREATE_ROLE, role_admin, &orgs.admin).await;
    let roles = [ORG_ROLE, "role-admin"];
    let (_, org_admin) = member(&app, &orgs.admin, "olga", Some("A01"), &roles).await;

    // Act
    let as_org = json!({ "n": "org-reader", "p": ["blacklist:read"], "s": "ORG" });
    let scoped = app.gql(CREATE_ROLE, as_org, Some(&org_admin)).await;
    let as_all = json!({ "n": "all-reader", "p": ["blacklist:read"], "s": "ALL" });
    let everywhere = app.gql(CREATE_ROLE, as_all, Some(&org_admin)).await;
    let widen = json!({ "n": "org-reader", "s": "ALL" });
    let widened = app.gql(SET_SCOPE, widen, Some(&org_admin)).await;

    // Assert
    assert!(scoped["errors"].is_null(), "{scoped}");
    assert_eq!(error_code(&everywhere), "FORBIDDEN");
    assert_eq!(error_code(&widened), "FORBIDDEN");
    let roles = ok(&app, "{ roles { name dataScope } }", json!({}), &orgs.admin).await;
    assert!(
        roles["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .all(|role| role["name"] != "all-reader"
                && (role["name"] != "org-reader" || role["dataScope"] == "ORG")),
        "{roles}"
    );
}

async fn an_organisations_user_administrator_reaches_only_its_members(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let mut rights = BLACKLIST_ALL.to_vec();
    rights.push("user:manage");
    let role = json!({ "n": "org-users", "p": rights, "s": "ORG" });
    ok(&app, CREATE_ROLE, role, &orgs.admin).await;
    let (_, olga) = member(&app, &orgs.admin, "olga", Some("A01"), &["org-users"]).await;
    let bob = json!({ "id": orgs.bob_id });

    // Act
    let users = ok(
        &app,
        "{ users { totalCount nodes { username } } }",
        json!({}),
        &olga,
    )
    .await;
    let one = app
        .gql(
            "query($id: ID!) { user(id: $id) { username } }",
            bob.clone(),
            Some(&olga),
        )
        .await;
    let renamed = app
        .gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { displayName: \"B\" }) { id } }",
            bob.clone(),
            Some(&olga),
        )
        .await;
    let password = app
        .gql(
            "mutation($id: ID!) { setUserPassword(id: $id, password: \"taken-over\") }",
            bob.clone(),
            Some(&olga),
        )
        .await;
    let roles = app
        .gql(
            "mutation($id: ID!) { setUserRoles(id: $id, roles: []) { id } }",
            bob,
            Some(&olga),
        )
        .await;
    let elsewhere = json!({ "username": "mallory", "password": "mallory-password", "orgCode": "B02", "roles": [ORG_ROLE] });
    let created_elsewhere = app
        .gql(CREATE_USER, json!({ "i": elsewhere }), Some(&olga))
        .await;
    let moved = app
        .gql(
            MOVE_USER,
            json!({ "id": orgs.alice_id, "o": "B02" }),
            Some(&olga),
        )
        .await;
    let at_home = json!({ "username": "dave", "password": "dave-password", "orgCode": "A01", "roles": [ORG_ROLE] });
    let created_at_home = app
        .gql(CREATE_USER, json!({ "i": at_home }), Some(&olga))
        .await;

    // Assert
    let names: Vec<&str> = users["users"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|user| user["username"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["alice", "olga"]);
    assert_eq!(users["users"]["totalCount"], 2);
    assert_eq!(one, json!({ "data": { "user": null } }));
    for refused in [&renamed, &password, &roles] {
        assert_eq!(error_code(refused), "NOT_FOUND", "{refused}");
    }
    assert_eq!(error_code(&created_elsewhere), "FORBIDDEN");
    assert_eq!(error_code(&moved), "FORBIDDEN");
    assert!(created_at_home["errors"].is_null(), "{created_at_home}");
    app.login("bob", "bob-password").await;
    assert_eq!(listed(&app, &orgs.alice).await, ["192.0.2.1"]);
}

/// `role:manage`, `service:manage` and `audit:read` concern what no organisation owns: held only
/// through an `ORG` role they open nothing. `token:revoke` reaches the organisation's users.
async fn rights_over_what_no_organisation_owns_need_an_all_role(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let orgs = two_organisations(&app).await;
    let rights = [
        "role:manage",
        "service:manage",
        "audit:read",
        "token:revoke",
    ];
    let role = json!({ "n": "org-officer", "p": rights, "s": "ORG" });
    ok(&app, CREATE_ROLE, role, &orgs.admin).await;
    let (_, officer) = member(&app, &orgs.admin, "otto", Some("A01"), &["org-officer"]).await;

    // Act
    let roles = app
        .gql("{ roles { name } }", json!({}), Some(&officer))
        .await;
    let services = app
        .gql(
            "{ serviceAccounts { clientId } }",
            json!({}),
            Some(&officer),
        )
        .await;
    let audit = app
        .gql("{ auditLog { totalCount } }", json!({}), Some(&officer))
        .await;
    let revoke = "mutation($u: String!) { revokeTokens(username: $u) }";
    let other_org = app.gql(revoke, json!({ "u": "bob" }), Some(&officer)).await;
    let own_org = app
        .gql(revoke, json!({ "u": "alice" }), Some(&officer))
        .await;

    // Assert
    for refused in [&roles, &services, &audit] {
        assert_eq!(error_code(refused), "FORBIDDEN", "{refused}");
    }
    assert_eq!(error_code(&other_org), "NOT_FOUND");
    assert_eq!(listed(&app, &orgs.bob).await, ["192.0.2.2"]);
    assert_eq!(own_org["data"]["revokeTokens"], 1, "{own_org}");
    let after = app.gql(LIST, json!({}), Some(&orgs.alice)).await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED");
}

async fn the_last_role_holding_star_everywhere_cannot_be_narrowed(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let narrowed = app
        .gql(SET_SCOPE, json!({ "n": "admin", "s": "ORG" }), Some(&admin))
        .await;
    assert_eq!(error_code(&narrowed), "CONFLICT", "{narrowed}");
    let roles = ok(&app, "{ roles { name dataScope } }", json!({}), &admin).await;
    assert!(
        roles["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .any(|r| r["name"] == "admin" && r["dataScope"] == "ALL")
    );
}

crate::on_backends!([sqlite, postgres, mysql] [
    an_org_scoped_role_reads_and_changes_only_its_organisations_entries,
    a_holder_of_no_organisation_reaches_no_entry,
    a_narrowed_scope_or_a_move_is_seen_on_the_very_next_request,
    a_subscriber_receives_only_its_organisations_changes,
    a_subscription_opened_with_a_wider_reach_is_closed_when_it_narrows,
    nobody_widens_a_scope_beyond_their_own,
    an_organisations_user_administrator_reaches_only_its_members,
    rights_over_what_no_organisation_owns_need_an_all_role,
    the_last_role_holding_star_everywhere_cannot_be_narrowed,
]);

/// Several instances share tokens only through Redis, so this runs where there is one.
mod replicas {
    use super::*;

    crate::on_backends!([postgres, mysql] [
        a_narrowed_scope_on_one_instance_is_seen_by_another_at_once,
    ]);
}
