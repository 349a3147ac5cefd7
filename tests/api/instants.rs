//! Instants across the whole range the `DateTime` scalar accepts: stored, read back, filtered on
//! and carried in cursors alike on every database, 2038 and 1970 being nothing special.

use std::collections::BTreeSet;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{Instant, blacklist_entry};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, error_code, spawn_app};

const PAGE: &str =
    "query($filter: BlacklistFilter, $first: Int, $after: String, $last: Int, $before: String) {
    blacklistEntries(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
        totalCount edges { cursor node { ip createdAt } } pageInfo { hasNextPage hasPreviousPage }
    }
}";

/// When the stored entries were created: the ends of the range every database holds, and the
/// instants around the Unix epoch and the end of 32-bit time.
const STORED: [(&str, &str); 7] = [
    ("192.0.2.1", "1000-01-01T00:00:00Z"),
    ("192.0.2.2", "1969-07-20T20:17:40.123456Z"),
    ("192.0.2.3", "2038-01-19T03:14:07Z"),
    ("192.0.2.4", "2038-01-19T03:14:08Z"),
    ("192.0.2.5", "2999-01-01T00:00:00Z"),
    ("192.0.2.6", "9999-12-31T23:59:59.999999Z"),
    ("192.0.2.7", "9999-12-31T23:59:59.999998Z"),
];

/// Filter bounds: inside and outside the stored range, beside stored instants, and finer than a
/// microsecond (which no database stores).
const PROBES: [&str; 24] = [
    "-262143-01-01T00:00:00Z",
    "-0001-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0999-12-31T23:59:59.999999Z",
    "1000-01-01T00:00:00Z",
    "1000-01-01T00:00:00.0000001Z",
    "1000-01-01T00:00:00.000001Z",
    "1969-07-20T20:17:40.123456Z",
    "1969-07-20T20:17:40.1234561Z",
    "1970-01-01T00:00:00Z",
    "2038-01-19T03:14:07Z",
    "2038-01-19T03:14:07.9999999Z",
    "2038-01-19T03:14:08Z",
    "2038-01-19T03:14:08.0000001Z",
    "2038-01-19T04:14:08+01:00",
    "2999-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999998Z",
    "9999-12-31T23:59:59.9999985Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59.9999999Z",
    "+10000-01-01T00:00:00Z",
    "+10000-01-01T00:00:00-23:59",
    "+99999-01-01T00:00:00Z",
    "+262142-12-31T23:59:59Z",
];

fn at(text: &str) -> DateTime<Utc> {
    text.parse()
        .unwrap_or_else(|e| panic!("{text} is not an instant: {e}"))
}

/// Stores the entries of `STORED` with their creation instants, as the server writes rows.
async fn store_entries(app: &TestApp) {
    for (ip, created_at) in STORED {
        let created_at = Instant::from_utc(at(created_at)).expect("within the stored range");
        blacklist_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            ip: Set(ip.to_owned()),
            remark: Set(None),
            bpm_status: Set(None),
            created_by: Set("admin".to_owned()),
            created_by_name: Set(None),
            created_at: Set(created_at),
            updated_by: Set(None),
            updated_by_name: Set(None),
            updated_at: Set(Some(created_at)),
            org_code: Set(None),
            company_code: Set(None),
        }
        .insert(&app.db)
        .await
        .expect("store an entry");
    }
}

async fn page(app: &TestApp, token: &str, variables: Value) -> Value {
    let body = app.gql(PAGE, variables, Some(token)).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["blacklistEntries"].clone()
}

fn ips(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges in {page}"))
        .iter()
        .map(|edge| edge["node"]["ip"].as_str().expect("an address").to_owned())
        .collect()
}

/// The stored addresses whose creation instant passes `keep`.
fn expected(keep: impl Fn(DateTime<Utc>) -> bool) -> BTreeSet<String> {
    STORED
        .iter()
        .filter(|(_, created_at)| keep(at(created_at)))
        .map(|(ip, _)| (*ip).to_owned())
        .collect()
}

async fn instants_across_the_whole_range_are_stored_and_read_back_exactly(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    store_entries(&app).await;

    // Act
    let all = page(&app, &token, json!({ "first": 100 })).await;

    // Assert: oldest first, each instant as stored.
    let read: Vec<(String, DateTime<Utc>)> = all["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            let created_at = node["createdAt"].as_str().expect("createdAt");
            (node["ip"].as_str().expect("ip").to_owned(), at(created_at))
        })
        .collect();
    let mut stored: Vec<(String, DateTime<Utc>)> = STORED
        .iter()
        .map(|(ip, created_at)| ((*ip).to_owned(), at(created_at)))
        .collect();
    stored.sort_by_key(|(_, created_at)| *created_at);
    assert_eq!(read, stored);
}

async fn creation_time_filters_compare_exactly_whatever_the_instant(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    store_entries(&app).await;

    for probe in PROBES {
        let bound = at(probe);

        // Act
        let before = page(
            &app,
            &token,
            json!({ "first": 100, "filter": { "createdBefore": probe } }),
        )
        .await;
        let after = page(
            &app,
            &token,
            json!({ "first": 100, "filter": { "createdAfter": probe } }),
        )
        .await;

        // Assert
        let before_ips: BTreeSet<String> = ips(&before).into_iter().collect();
        let after_ips: BTreeSet<String> = ips(&after).into_iter().collect();
        let expected_before = expected(|created_at| created_at < bound);
        let expected_after = expected(|created_at| created_at > bound);
        assert_eq!(before_ips, expected_before, "createdBefore {probe}");
        assert_eq!(
            before["totalCount"],
            expected_before.len(),
            "createdBefore {probe}"
        );
        assert_eq!(after_ips, expected_after, "createdAfter {probe}");
        assert_eq!(
            after["totalCount"],
            expected_after.len(),
            "createdAfter {probe}"
        );
    }
    // Both bounds at once, across 2038.
    let between = page(
        &app,
        &token,
        json!({ "first": 100, "filter": { "createdAfter": "1969-12-31T23:59:59Z", "createdBefore": "+10000-01-01T00:00:00Z" } }),
    )
    .await;
    assert_eq!(
        ips(&between),
        [
            "192.0.2.3",
            "192.0.2.4",
            "192.0.2.5",
            "192.0.2.7",
            "192.0.2.6"
        ]
    );
}

async fn cursors_walk_across_the_whole_range_both_ways(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    store_entries(&app).await;
    let mut oldest_first: Vec<(&str, DateTime<Utc>)> = STORED
        .iter()
        .map(|(ip, created_at)| (*ip, at(created_at)))
        .collect();
    oldest_first.sort_by_key(|(_, created_at)| *created_at);
    let oldest_first: Vec<&str> = oldest_first.into_iter().map(|(ip, _)| ip).collect();

    // Act: one entry per page, forwards and then backwards.
    let mut forwards = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = page(&app, &token, json!({ "first": 1, "after": after })).await;
        forwards.extend(ips(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["edges"][0]["cursor"].as_str().map(str::to_owned);
        assert!(
            forwards.len() <= STORED.len(),
            "the walk does not end: {forwards:?}"
        );
    }
    let mut backwards = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = page(&app, &token, json!({ "last": 1, "before": before })).await;
        backwards.extend(ips(&page));
        if page["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = page["edges"][0]["cursor"].as_str().map(str::to_owned);
        assert!(
            backwards.len() <= STORED.len(),
            "the walk does not end: {backwards:?}"
        );
    }

    // Assert
    assert_eq!(forwards, oldest_first);
    backwards.reverse();
    assert_eq!(backwards, oldest_first);
}

async fn a_cursor_holding_an_instant_no_column_holds_is_refused(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    store_entries(&app).await;
    let id = Uuid::now_v7().simple();
    let cursor =
        |instant: &str| URL_SAFE_NO_PAD.encode(format!("{}:{id}", at(instant).timestamp_micros()));

    for instant in [
        "0999-12-31T23:59:59.999999Z",
        "+10000-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
    ] {
        // Act
        let forwards = app
            .gql(
                PAGE,
                json!({ "first": 5, "after": cursor(instant) }),
                Some(&token),
            )
            .await;
        let backwards = app
            .gql(
                PAGE,
                json!({ "last": 5, "before": cursor(instant) }),
                Some(&token),
            )
            .await;

        // Assert
        assert_eq!(
            error_code(&forwards),
            "BAD_USER_INPUT",
            "{instant}: {forwards}"
        );
        assert_eq!(forwards["errors"][0]["extensions"]["field"], "after");
        assert_eq!(
            error_code(&backwards),
            "BAD_USER_INPUT",
            "{instant}: {backwards}"
        );
        assert_eq!(backwards["errors"][0]["extensions"]["field"], "before");
    }
}

crate::on_backends!([sqlite, postgres, mysql] [
    instants_across_the_whole_range_are_stored_and_read_back_exactly,
    creation_time_filters_compare_exactly_whatever_the_instant,
    cursors_walk_across_the_whole_range_both_ways,
    a_cursor_holding_an_instant_no_column_holds_is_refused,
]);
