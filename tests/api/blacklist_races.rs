//! Concurrent writes to the blacklist: the enforced matcher ends equal to the committed rows, and
//! contention is waited out or answered with a meaning (CONFLICT, NOT_FOUND), never an internal error.

use std::collections::BTreeSet;

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

const CREATE: &str =
    "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id ip } }";
const UPDATE: &str =
    "mutation($id: ID!, $ip: String!) { updateBlacklistEntry(id: $id, input: { ip: $ip }) { ip } }";
const DELETE: &str = "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }";
const LIST: &str = "{ blacklistEntries(first: 100) { totalCount nodes { ip } } }";
const IS_BLOCKED: &str = "query($ip: String!) { isBlocked(ip: $ip) }";
/// What a write that lost a race may be told: its entry was gone, or its address taken.
const LOSING_CODES: [&str; 2] = ["NOT_FOUND", "CONFLICT"];

/// Asserts that a write was answered with data, or else with one of `allowed` codes.
fn assert_answered(body: &Value, field: &str, allowed: &[&str]) {
    if body["errors"].is_null() && !body["data"][field].is_null() {
        return;
    }
    let code = body["errors"][0]["extensions"]["code"].as_str();
    assert!(
        code.is_some_and(|code| allowed.contains(&code)),
        "a concurrent {field} got {body}"
    );
}

async fn create(app: &TestApp, token: &str, ip: &str) -> Value {
    app.gql(CREATE, json!({ "ip": ip }), Some(token)).await
}

async fn create_id(app: &TestApp, token: &str, ip: &str) -> String {
    let body = create(app, token, ip).await;
    body["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("create failed: {body}"))
        .to_owned()
}

/// The addresses the table holds, as `blacklistEntries` reads them.
async fn listed(app: &TestApp, token: &str) -> BTreeSet<String> {
    let body = app.gql(LIST, json!({}), Some(token)).await;
    let page = &body["data"]["blacklistEntries"];
    assert!(
        page["totalCount"].as_u64().is_some_and(|n| n < 100),
        "{body}"
    );
    page["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries in {body}"))
        .iter()
        .map(|node| node["ip"].as_str().expect("an address").to_owned())
        .collect()
}

/// Asserts that for every address involved, the matcher (`isBlocked`) says what the table says.
async fn assert_matcher_follows_the_table(app: &TestApp, token: &str, involved: &[String]) {
    let listed = listed(app, token).await;
    let mut disagreements = Vec::new();
    for ip in involved {
        let body = app.gql(IS_BLOCKED, json!({ "ip": ip }), Some(token)).await;
        let blocked = body["data"]["isBlocked"]
            .as_bool()
            .unwrap_or_else(|| panic!("isBlocked failed: {body}"));
        if blocked != listed.contains(ip) {
            disagreements.push(format!("{ip}: blocked {blocked}, listed {}", !blocked));
        }
    }
    assert!(
        disagreements.is_empty(),
        "the matcher disagrees with the table ({listed:?}): {disagreements:?}"
    );
}

async fn concurrent_updates_of_one_entry_leave_the_matcher_equal_to_the_table(backend: Backend) {
    const ROUNDS: u8 = 4;
    const UPDATES: u8 = 16;
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    for round in 0..ROUNDS {
        let original = format!("198.18.{round}.0");
        let id = create_id(&app, &token, &original).await;
        let targets: Vec<String> = (1..=UPDATES)
            .map(|n| format!("198.18.{round}.{n}"))
            .collect();

        // Act: every update moves the one entry somewhere else, all at once.
        let answers = join_all(
            targets
                .iter()
                .map(|ip| app.gql(UPDATE, json!({ "id": id, "ip": ip }), Some(&token))),
        )
        .await;

        // Assert
        for body in &answers {
            assert_answered(body, "updateBlacklistEntry", &[]);
        }
        let mut involved = targets;
        involved.push(original);
        assert_matcher_follows_the_table(&app, &token, &involved).await;
    }
}

async fn concurrent_creates_updates_and_deletes_of_the_same_addresses_leave_the_matcher_equal_to_the_table(
    backend: Backend,
) {
    const ENTRIES: usize = 3;
    const ADDRESSES: usize = 6;
    const WRITES: usize = 36;
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let addresses: Vec<String> = (1..=ADDRESSES).map(|n| format!("198.19.0.{n}")).collect();
    let mut ids = Vec::new();
    for ip in &addresses[..ENTRIES] {
        ids.push(create_id(&app, &token, ip).await);
    }

    // Act: creates, moves and deletes of the same entries and addresses, all at once.
    let writes = (0..WRITES).map(|n| {
        let (app, token, ids, addresses) = (&app, &token, &ids, &addresses);
        async move {
            let ip = &addresses[(n * 5) % ADDRESSES];
            let id = &ids[n % ENTRIES];
            match n % 4 {
                0 => ("createBlacklistEntry", create(app, token, ip).await),
                3 if n > WRITES / 2 => (
                    "deleteBlacklistEntry",
                    app.gql(DELETE, json!({ "id": id }), Some(token)).await,
                ),
                _ => (
                    "updateBlacklistEntry",
                    app.gql(UPDATE, json!({ "id": id, "ip": ip }), Some(token))
                        .await,
                ),
            }
        }
    });
    let answers = join_all(writes).await;

    // Assert
    for (field, body) in &answers {
        assert_answered(body, field, &LOSING_CODES);
    }
    assert_matcher_follows_the_table(&app, &token, &addresses).await;
}

async fn many_parallel_writes_all_succeed(backend: Backend) {
    const EACH: u8 = 24;
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let id = create_id(&app, &token, "198.18.100.0").await;

    // Act: creates of distinct addresses beside moves of one entry to distinct addresses; none
    // of them conflicts with another, so contention is all there is to get in their way.
    let creates = (1..=EACH).map(|n| {
        let (app, token) = (&app, &token);
        async move {
            (
                "createBlacklistEntry",
                create(app, token, &format!("198.18.101.{n}")).await,
            )
        }
    });
    let updates = (1..=EACH).map(|n| {
        let (app, token, id) = (&app, &token, &id);
        async move {
            let ip = format!("198.18.102.{n}");
            let body = app
                .gql(UPDATE, json!({ "id": id, "ip": ip }), Some(token))
                .await;
            ("updateBlacklistEntry", body)
        }
    });
    let (created, updated) = futures::join!(join_all(creates), join_all(updates));

    // Assert
    for (field, body) in created.iter().chain(&updated) {
        assert_answered(body, field, &[]);
    }
    let involved: Vec<String> = (1..=EACH)
        .flat_map(|n| [format!("198.18.101.{n}"), format!("198.18.102.{n}")])
        .chain(["198.18.100.0".to_owned()])
        .collect();
    assert_matcher_follows_the_table(&app, &token, &involved).await;
}

crate::on_backends!([sqlite, postgres, mysql] [
    concurrent_updates_of_one_entry_leave_the_matcher_equal_to_the_table,
    concurrent_creates_updates_and_deletes_of_the_same_addresses_leave_the_matcher_equal_to_the_table,
    many_parallel_writes_all_succeed,
]);
