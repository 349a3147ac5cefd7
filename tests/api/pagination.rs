//! Paging through blacklist entries: Relay cursors in creation order, page-size limits and filters.

use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, spawn_app};

const PAGE: &str =
    "query($filter: BlacklistFilter, $first: Int, $after: String, $last: Int, $before: String) {
    blacklistEntries(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id ip createdBy createdAt } }
        nodes { id ip createdBy createdAt }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        totalCount
    }
}";

const CREATE: &str = "mutation($input: CreateBlacklistEntryInput!) {
    createBlacklistEntry(input: $input) { id ip createdBy createdAt }
}";

/// Creates an entry for `ip` and returns it as a page node looks.
async fn create_entry(app: &TestApp, token: &str, ip: &str) -> Value {
    let body = app
        .gql(CREATE, json!({ "input": { "ip": ip } }), Some(token))
        .await;
    let entry = &body["data"]["createBlacklistEntry"];
    assert!(entry.is_object(), "create failed: {body}");
    entry.clone()
}

/// Creates `10.0.0.1` … `10.0.0.{count}` one after another and returns their addresses in that order.
async fn create_entries(app: &TestApp, token: &str, count: usize) -> Vec<String> {
    let mut ips = Vec::with_capacity(count);
    for n in 1..=count {
        let ip = format!("10.0.0.{n}");
        create_entry(app, token, &ip).await;
        ips.push(ip);
    }
    ips
}

/// Fetches one page, checking that `nodes`, `edges` and the page's cursors describe the same entries.
async fn fetch_page(app: &TestApp, token: &str, args: Value) -> Value {
    let body = app.gql(PAGE, args, Some(token)).await;
    assert!(body["errors"].is_null(), "page failed: {body}");
    let page = body["data"]["blacklistEntries"].clone();
    let edges = page["edges"].as_array().expect("edges");
    let edge_nodes: Vec<&Value> = edges.iter().map(|edge| &edge["node"]).collect();
    let nodes: Vec<&Value> = page["nodes"].as_array().expect("nodes").iter().collect();
    assert_eq!(nodes, edge_nodes, "{page}");
    let first_cursor = edges.first().map_or(&Value::Null, |edge| &edge["cursor"]);
    let last_cursor = edges.last().map_or(&Value::Null, |edge| &edge["cursor"]);
    assert_eq!(page["pageInfo"]["startCursor"], *first_cursor, "{page}");
    assert_eq!(page["pageInfo"]["endCursor"], *last_cursor, "{page}");
    page
}

fn ips(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["ip"].as_str().expect("an ip").to_owned())
        .collect()
}

fn has_next(page: &Value) -> bool {
    page["pageInfo"]["hasNextPage"]
        .as_bool()
        .expect("hasNextPage")
}

fn has_previous(page: &Value) -> bool {
    page["pageInfo"]["hasPreviousPage"]
        .as_bool()
        .expect("hasPreviousPage")
}

/// Asserts that a response failed with BAD_USER_INPUT about `field`.
fn assert_bad_input(body: &Value, field: &str) {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    assert!(body["data"].is_null(), "{body}");
}

async fn walking_forwards_visits_every_entry_once_in_creation_order(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 10).await;
    let expected: Vec<&[String]> = created.chunks(3).collect();

    // Act
    let mut pages = Vec::new();
    let mut after = Value::Null;
    for _ in &expected {
        let page = fetch_page(&app, &token, json!({ "first": 3, "after": after })).await;
        after = page["pageInfo"]["endCursor"].clone();
        pages.push(page);
    }
    let beyond_the_end = fetch_page(&app, &token, json!({ "first": 3, "after": after })).await;

    // Assert
    for (n, (page, chunk)) in pages.iter().zip(&expected).enumerate() {
        assert_eq!(ips(page), *chunk, "page {n}: {page}");
        assert_eq!(has_previous(page), n > 0, "page {n}: {page}");
        assert_eq!(has_next(page), n + 1 < expected.len(), "page {n}: {page}");
        assert_eq!(page["totalCount"], 10, "page {n}: {page}");
    }
    assert_eq!(ips(&beyond_the_end), Vec::<String>::new());
    assert!(!has_next(&beyond_the_end), "{beyond_the_end}");
    assert!(has_previous(&beyond_the_end), "{beyond_the_end}");
}

async fn walking_backwards_visits_every_entry_once_in_reverse_order(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 10).await;
    // Each page lists its entries oldest first; the pages themselves come newest first.
    let expected: Vec<&[String]> = created.rchunks(3).collect();

    // Act
    let mut pages = Vec::new();
    let mut before = Value::Null;
    for _ in &expected {
        let page = fetch_page(&app, &token, json!({ "last": 3, "before": before })).await;
        before = page["pageInfo"]["startCursor"].clone();
        pages.push(page);
    }
    let beyond_the_start = fetch_page(&app, &token, json!({ "last": 3, "before": before })).await;

    // Assert
    for (n, (page, chunk)) in pages.iter().zip(&expected).enumerate() {
        assert_eq!(ips(page), *chunk, "page {n}: {page}");
        assert_eq!(has_next(page), n > 0, "page {n}: {page}");
        assert_eq!(
            has_previous(page),
            n + 1 < expected.len(),
            "page {n}: {page}"
        );
        assert_eq!(page["totalCount"], 10, "page {n}: {page}");
    }
    assert_eq!(ips(&beyond_the_start), Vec::<String>::new());
    assert!(has_next(&beyond_the_start), "{beyond_the_start}");
    assert!(!has_previous(&beyond_the_start), "{beyond_the_start}");
}

async fn a_forward_walk_is_stable_under_inserts(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 10).await;

    // Act
    let mut walked = Vec::new();
    let mut inserted = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = fetch_page(&app, &token, json!({ "first": 3, "after": after })).await;
        walked.extend(ips(&page));
        if !has_next(&page) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        let ip = format!("192.0.2.{}", inserted.len() + 1);
        create_entry(&app, &token, &ip).await;
        inserted.push(ip);
    }

    // Assert
    assert_eq!(inserted.len(), 4, "{walked:?}");
    let expected: Vec<String> = created.into_iter().chain(inserted).collect();
    assert_eq!(walked, expected);
}

async fn a_backward_walk_is_stable_under_inserts(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 10).await;

    // Act
    let mut walked = Vec::new();
    let mut inserted = 0;
    let mut before = Value::Null;
    loop {
        let page = fetch_page(&app, &token, json!({ "last": 3, "before": before })).await;
        walked.splice(0..0, ips(&page));
        if !has_previous(&page) {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
        inserted += 1;
        create_entry(&app, &token, &format!("192.0.2.{inserted}")).await;
    }

    // Assert: new entries sort after the ones already walked past, so a backward walk never meets them.
    assert_eq!(inserted, 3);
    assert_eq!(walked, created);
    assert_eq!(app.count_rows("blacklist_entry").await, 13);
}

async fn a_page_holds_20_entries_unless_asked_otherwise(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 25).await;

    // Act
    let forwards = fetch_page(&app, &token, json!({})).await;
    let backwards = fetch_page(
        &app,
        &token,
        json!({ "before": forwards["pageInfo"]["endCursor"] }),
    )
    .await;

    // Assert
    assert_eq!(ips(&forwards), created[..20]);
    assert!(has_next(&forwards), "{forwards}");
    assert!(!has_previous(&forwards), "{forwards}");
    assert_eq!(forwards["totalCount"], 25);
    assert_eq!(ips(&backwards), created[..19]);
    assert!(!has_previous(&backwards), "{backwards}");
}

async fn a_page_may_hold_100_entries_but_not_101(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 3).await;

    // Act
    let first_100 = fetch_page(&app, &token, json!({ "first": 100 })).await;
    let last_100 = fetch_page(&app, &token, json!({ "last": 100 })).await;
    let first_101 = app.gql(PAGE, json!({ "first": 101 }), Some(&token)).await;
    let last_101 = app.gql(PAGE, json!({ "last": 101 }), Some(&token)).await;

    // Assert
    assert_eq!(ips(&first_100), created);
    assert_eq!(ips(&last_100), created);
    assert_bad_input(&first_101, "first");
    assert_bad_input(&last_101, "last");
}

async fn a_negative_page_size_is_refused(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    create_entries(&app, &token, 3).await;

    // Act
    let first = app.gql(PAGE, json!({ "first": -1 }), Some(&token)).await;
    let last = app.gql(PAGE, json!({ "last": -3 }), Some(&token)).await;

    // Assert
    assert_bad_input(&first, "first");
    assert_bad_input(&last, "last");
}

async fn first_and_last_cannot_be_combined(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    create_entries(&app, &token, 3).await;

    // Act
    let body = app
        .gql(PAGE, json!({ "first": 2, "last": 2 }), Some(&token))
        .await;

    // Assert
    assert_bad_input(&body, "last");
}

async fn a_cursor_the_api_did_not_issue_is_refused(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    create_entries(&app, &token, 3).await;
    // Not base64; base64 of text without a position; a position whose id is not a UUID.
    let garbage = ["garbage!", "bm90LWEtY3Vyc29y", "MTIzOm5vdC1hLXV1aWQ"];

    for cursor in garbage {
        // Act
        let after = app
            .gql(PAGE, json!({ "first": 2, "after": cursor }), Some(&token))
            .await;
        let after_alone = app
            .gql(PAGE, json!({ "after": cursor }), Some(&token))
            .await;
        let before = app
            .gql(PAGE, json!({ "last": 2, "before": cursor }), Some(&token))
            .await;

        // Assert
        assert_bad_input(&after, "after");
        assert_bad_input(&after_alone, "after");
        assert_bad_input(&before, "before");
    }
}

async fn every_edge_cursor_marks_the_position_of_its_node(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let created = create_entries(&app, &token, 5).await;
    let all = fetch_page(&app, &token, json!({ "first": 5 })).await;

    for (n, edge) in all["edges"].as_array().expect("edges").iter().enumerate() {
        // Act
        let after = fetch_page(&app, &token, json!({ "first": 5, "after": edge["cursor"] })).await;
        let before = fetch_page(&app, &token, json!({ "last": 5, "before": edge["cursor"] })).await;

        // Assert
        assert_eq!(edge["node"]["ip"], created[n]);
        assert_eq!(ips(&after), created[n + 1..], "after {n}");
        assert_eq!(ips(&before), created[..n], "before {n}");
    }
    assert_eq!(ips(&all), created);
}

async fn an_empty_blacklist_is_one_empty_page(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let forwards = fetch_page(&app, &token, json!({ "first": 3 })).await;
    let backwards = fetch_page(&app, &token, json!({ "last": 3 })).await;

    // Assert
    let empty = json!({
        "edges": [],
        "nodes": [],
        "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null },
        "totalCount": 0,
    });
    assert_eq!(forwards, empty);
    assert_eq!(backwards, empty);
}

async fn the_total_count_counts_every_matching_entry_on_all_pages(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let alice = app.token_with_permissions("alice", &["blacklist:*"]).await;
    let bob = app.token_with_permissions("bob", &["blacklist:*"]).await;
    for n in 1..=4 {
        create_entry(&app, &alice, &format!("10.0.0.{n}")).await;
        create_entry(&app, &bob, &format!("10.0.1.{n}")).await;
    }
    create_entry(&app, &alice, "10.0.0.5").await;
    let bobs = json!({ "createdBy": "bob" });

    // Act
    let everything = fetch_page(&app, &alice, json!({ "first": 2 })).await;
    let first = fetch_page(&app, &alice, json!({ "filter": bobs, "first": 3 })).await;
    let second = fetch_page(
        &app,
        &alice,
        json!({ "filter": bobs, "first": 3, "after": first["pageInfo"]["endCursor"] }),
    )
    .await;

    // Assert
    assert_eq!(everything["totalCount"], 9);
    assert_eq!(ips(&first), ["10.0.1.1", "10.0.1.2", "10.0.1.3"]);
    assert_eq!(first["totalCount"], 4);
    assert!(has_next(&first), "{first}");
    assert_eq!(ips(&second), ["10.0.1.4"]);
    assert_eq!(second["totalCount"], 4);
    assert!(!has_next(&second), "{second}");
}

async fn entries_can_be_filtered_by_part_of_their_address(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    for ip in [
        "10.0.0.1",
        "192.168.10.0/24",
        "2001:db8::1",
        "10.0.1.1",
        "2001:db8:ab00::/40",
        "172.16.0.1",
    ] {
        create_entry(&app, &token, ip).await;
    }
    let cases: [(&str, &[&str]); 6] = [
        ("10.0.", &["10.0.0.1", "10.0.1.1"]),
        ("10.0", &["10.0.0.1", "192.168.10.0/24", "10.0.1.1"]),
        ("DB8", &["2001:db8::1", "2001:db8:ab00::/40"]),
        ("/", &["192.168.10.0/24", "2001:db8:ab00::/40"]),
        ("%", &[]),
        ("_", &[]),
    ];

    for (part, expected) in cases {
        // Act
        let page = fetch_page(&app, &token, json!({ "filter": { "ipContains": part } })).await;

        // Assert
        assert_eq!(ips(&page), expected, "{part:?}");
        assert_eq!(page["totalCount"], expected.len(), "{part:?}");
    }
}

async fn entries_can_be_filtered_by_creator(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let alice = app.token_with_permissions("alice", &["blacklist:*"]).await;
    let bob = app.token_with_permissions("bob", &["blacklist:*"]).await;
    create_entry(&app, &alice, "10.0.0.1").await;
    create_entry(&app, &bob, "10.0.0.2").await;
    create_entry(&app, &alice, "10.0.0.3").await;

    // Act
    let alices = fetch_page(&app, &bob, json!({ "filter": { "createdBy": "alice" } })).await;
    let bobs = fetch_page(&app, &bob, json!({ "filter": { "createdBy": "bob" } })).await;
    let partial = fetch_page(&app, &bob, json!({ "filter": { "createdBy": "ali" } })).await;
    let nobody = fetch_page(&app, &bob, json!({ "filter": { "createdBy": "admin" } })).await;

    // Assert
    assert_eq!(ips(&alices), ["10.0.0.1", "10.0.0.3"]);
    assert_eq!(alices["totalCount"], 2);
    assert!(
        alices["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["createdBy"] == "alice")
    );
    assert_eq!(ips(&bobs), ["10.0.0.2"]);
    assert_eq!(bobs["totalCount"], 1);
    assert_eq!(ips(&partial), Vec::<String>::new());
    assert_eq!(partial["totalCount"], 0);
    assert_eq!(ips(&nobody), Vec::<String>::new());
    assert_eq!(nobody["totalCount"], 0);
}

async fn entries_can_be_filtered_by_creation_time(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let mut created_at = Vec::new();
    for n in 1..=4 {
        let entry = create_entry(&app, &token, &format!("10.0.0.{n}")).await;
        created_at.push(entry["createdAt"].clone());
    }
    // The same instant as the second entry's, written with another offset.
    let second_in_plus_two = DateTime::parse_from_rfc3339(created_at[1].as_str().expect("text"))
        .expect("RFC 3339")
        .with_timezone(&FixedOffset::east_opt(2 * 3600).expect("an offset"))
        .to_rfc3339();

    // Act
    let after_first = fetch_page(
        &app,
        &token,
        json!({ "filter": { "createdAfter": created_at[0] } }),
    )
    .await;
    let before_last = fetch_page(
        &app,
        &token,
        json!({ "filter": { "createdBefore": created_at[3] } }),
    )
    .await;
    let between = fetch_page(
        &app,
        &token,
        json!({ "filter": { "createdAfter": created_at[0], "createdBefore": created_at[3] } }),
    )
    .await;
    let after_second = fetch_page(
        &app,
        &token,
        json!({ "filter": { "createdAfter": second_in_plus_two } }),
    )
    .await;

    // Assert
    assert_eq!(ips(&after_first), ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    assert_eq!(after_first["totalCount"], 3);
    assert_eq!(ips(&before_last), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    assert_eq!(before_last["totalCount"], 3);
    assert_eq!(ips(&between), ["10.0.0.2", "10.0.0.3"]);
    assert_eq!(between["totalCount"], 2);
    assert_eq!(ips(&after_second), ["10.0.0.3", "10.0.0.4"]);
    assert_eq!(after_second["totalCount"], 2);
}

crate::on_backends!([sqlite, postgres] [
    walking_forwards_visits_every_entry_once_in_creation_order,
    walking_backwards_visits_every_entry_once_in_reverse_order,
    a_forward_walk_is_stable_under_inserts,
    a_backward_walk_is_stable_under_inserts,
    a_page_holds_20_entries_unless_asked_otherwise,
    a_page_may_hold_100_entries_but_not_101,
    a_negative_page_size_is_refused,
    first_and_last_cannot_be_combined,
    a_cursor_the_api_did_not_issue_is_refused,
    every_edge_cursor_marks_the_position_of_its_node,
    an_empty_blacklist_is_one_empty_page,
    the_total_count_counts_every_matching_entry_on_all_pages,
    entries_can_be_filtered_by_part_of_their_address,
    entries_can_be_filtered_by_creator,
    entries_can_be_filtered_by_creation_time,
]);
