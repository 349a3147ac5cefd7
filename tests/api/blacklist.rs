//! Blacklist entries over HTTP: canonical addresses, input checks, audit fields, conflicts and unknown ids.

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use futures::future::join_all;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, error_code, spawn_app};

/// Every field of `BlacklistEntry`, so that assertions can compare whole entries.
macro_rules! entry_fields {
    () => {
        "{ id ip remark bpmStatus createdBy createdByName createdAt updatedBy updatedByName updatedAt orgCode companyCode }"
    };
}

const CREATE: &str = concat!(
    "mutation($input: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $input) ",
    entry_fields!(),
    " }"
);
const UPDATE: &str = concat!(
    "mutation($id: ID!, $input: UpdateBlacklistEntryInput!) { updateBlacklistEntry(id: $id, input: $input) ",
    entry_fields!(),
    " }"
);
const READ: &str = concat!(
    "query($id: ID!) { blacklistEntry(id: $id) ",
    entry_fields!(),
    " }"
);
const DELETE: &str = "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }";
const LIST: &str = concat!(
    "{ blacklistEntries { totalCount nodes ",
    entry_fields!(),
    " } }"
);

/// Creates an entry and returns it, panicking with the body when the server refuses.
async fn create_entry(app: &TestApp, token: &str, input: Value) -> Value {
    let body = app
        .gql(CREATE, json!({ "input": input }), Some(token))
        .await;
    let entry = &body["data"]["createBlacklistEntry"];
    assert!(entry.is_object(), "create failed: {body}");
    entry.clone()
}

/// Reads an entry by id: the entry, or `null` when there is none.
async fn read_entry(app: &TestApp, token: &str, id: &Value) -> Value {
    let body = app.gql(READ, json!({ "id": id }), Some(token)).await;
    assert!(body["errors"].is_null(), "read failed: {body}");
    body["data"]["blacklistEntry"].clone()
}

/// Asserts that a response failed with BAD_USER_INPUT about `field`.
fn assert_bad_input(body: &Value, field: &str) {
    assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
}

fn timestamp(value: &Value) -> DateTime<FixedOffset> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text} is not RFC 3339: {e}"))
}

async fn an_admin_can_create_an_entry_and_find_it_in_the_list(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let created = create_entry(&app, &token, json!({ "ip": "2001:DB8::1" })).await;
    let list = app.gql(LIST, json!({}), Some(&token)).await;

    // Assert
    assert_eq!(created["ip"], "2001:db8::1");
    assert_eq!(created["createdBy"], "admin");
    assert_eq!(created["createdByName"], "Administrator");
    assert_eq!(list["data"]["blacklistEntries"]["totalCount"], 1, "{list}");
    assert_eq!(
        list["data"]["blacklistEntries"]["nodes"],
        json!([created]),
        "{list}"
    );
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn addresses_and_blocks_are_stored_in_their_canonical_form(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let cases = [
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0002", "2001:db8::2"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("10.0.0.7/32", "10.0.0.7"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:DB8:AB00::/40", "2001:db8:ab00::/40"),
        ("::ffff:172.16.0.0/108", "172.16.0.0/12"),
        (" 198.51.100.9 ", "198.51.100.9"),
    ];

    for (input, canonical) in cases {
        // Act
        let created = create_entry(&app, &token, json!({ "ip": input })).await;
        let read = read_entry(&app, &token, &created["id"]).await;

        // Assert
        assert_eq!(created["ip"], canonical, "{input:?}");
        assert_eq!(read["ip"], canonical, "{input:?}");
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 8);
}

async fn a_block_with_host_bits_set_is_rejected(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let body = app
        .gql(
            CREATE,
            json!({ "input": { "ip": "10.0.0.7/8" } }),
            Some(&token),
        )
        .await;

    // Assert
    assert_bad_input(&body, "ip");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn text_that_is_not_an_address_is_rejected(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let not_addresses = [
        "",
        "   ",
        "not-an-ip",
        "10.0.0",
        "10.0.0.256",
        "1.2.3.4/33",
        "1.2.3.4/",
        "fe80::1%eth0",
        "10.0.0.1\u{0}",
        "1.2.3.4'; DROP TABLE blacklist_entry; --",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee",
    ];

    for ip in not_addresses {
        // Act
        let body = app
            .gql(CREATE, json!({ "input": { "ip": ip } }), Some(&token))
            .await;

        // Assert
        assert_bad_input(&body, "ip");
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn an_address_already_listed_under_any_spelling_is_a_conflict(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    for ip in ["2001:db8::1", "192.0.2.1", "10.0.0.7"] {
        create_entry(&app, &token, json!({ "ip": ip })).await;
    }
    let duplicates = [
        "2001:db8::1",
        "2001:DB8::1",
        "2001:0db8:0:0:0:0:0:1",
        "2001:db8::1/128",
        "192.0.2.1",
        "::ffff:192.0.2.1",
        "10.0.0.7/32",
    ];

    for ip in duplicates {
        // Act
        let body = app
            .gql(
                CREATE,
                json!({ "input": { "ip": ip, "remark": "again" } }),
                Some(&token),
            )
            .await;

        // Assert
        assert_eq!(error_code(&body), "CONFLICT", "{ip:?}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 3);
}

async fn concurrent_creates_of_one_address_store_it_exactly_once(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let spellings = [
        "2001:db8::7",
        "2001:DB8::7",
        "2001:0db8::7",
        "2001:db8:0::7",
        "2001:db8::7/128",
        "2001:DB8:0:0:0:0:0:7",
        "2001:db8::0:7",
        "2001:0DB8:0000::0007",
    ];

    // Act
    let bodies = join_all(
        spellings
            .iter()
            .map(|ip| app.gql(CREATE, json!({ "input": { "ip": ip } }), Some(&token))),
    )
    .await;

    // Assert
    let created: Vec<&Value> = bodies
        .iter()
        .filter(|body| body["errors"].is_null())
        .collect();
    assert_eq!(created.len(), 1, "{bodies:#?}");
    assert_eq!(
        created[0]["data"]["createBlacklistEntry"]["ip"],
        "2001:db8::7"
    );
    let codes: Vec<&str> = bodies
        .iter()
        .filter(|body| !body["errors"].is_null())
        .map(error_code)
        .collect();
    assert_eq!(codes, vec!["CONFLICT"; 7], "{bodies:#?}");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn remarks_and_bpm_statuses_are_stored_verbatim(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let texts = [
        "'; DROP TABLE blacklist_entry; --",
        "1' OR '1'='1",
        "Robert\"); DELETE FROM app_user WHERE (\"1\"=\"1",
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "%_\\ 100% of C:\\temp\\*.*",
        "  padded with spaces  ",
        "line one\nline two\ttabbed",
        "Grüße, 你好, emoji 🚫",
    ];

    for (n, text) in texts.iter().enumerate() {
        let ip = format!("203.0.113.{n}");
        let status: String = text.chars().take(32).collect();

        // Act
        let created = create_entry(
            &app,
            &token,
            json!({ "ip": ip, "remark": text, "bpmStatus": status }),
        )
        .await;
        let read = read_entry(&app, &token, &created["id"]).await;

        // Assert
        assert_eq!(created["remark"], *text);
        assert_eq!(created["bpmStatus"], status);
        assert_eq!(read, created);
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 9);
}

async fn a_remark_may_have_500_characters_but_not_501(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    // Multi-byte characters: the limit counts characters, not bytes.
    let longest = "é".repeat(500);

    // Act
    let accepted = create_entry(&app, &token, json!({ "ip": "10.0.0.1", "remark": longest })).await;
    let rejected = app
        .gql(
            CREATE,
            json!({ "input": { "ip": "10.0.0.2", "remark": "é".repeat(501) } }),
            Some(&token),
        )
        .await;

    // Assert
    assert_eq!(accepted["remark"], longest);
    assert_eq!(
        read_entry(&app, &token, &accepted["id"]).await["remark"],
        longest
    );
    assert_bad_input(&rejected, "remark");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn an_empty_or_blank_remark_is_rejected(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    for remark in ["", " ", "\t\n  "] {
        // Act
        let body = app
            .gql(
                CREATE,
                json!({ "input": { "ip": "10.0.0.1", "remark": remark } }),
                Some(&token),
            )
            .await;

        // Assert
        assert_bad_input(&body, "remark");
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_bpm_status_may_have_32_characters_but_not_33_nor_be_blank(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let longest = "S".repeat(32);

    // Act
    let accepted = create_entry(
        &app,
        &token,
        json!({ "ip": "10.0.0.1", "bpmStatus": longest }),
    )
    .await;
    let too_long = app
        .gql(
            CREATE,
            json!({ "input": { "ip": "10.0.0.2", "bpmStatus": "S".repeat(33) } }),
            Some(&token),
        )
        .await;
    let blank = app
        .gql(
            CREATE,
            json!({ "input": { "ip": "10.0.0.3", "bpmStatus": "  " } }),
            Some(&token),
        )
        .await;

    // Assert
    assert_eq!(accepted["bpmStatus"], longest);
    assert_bad_input(&too_long, "bpmStatus");
    assert_bad_input(&blank, "bpmStatus");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn text_containing_a_nul_character_is_rejected(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    // Act
    let remark = app
        .gql(
            CREATE,
            json!({ "input": { "ip": "10.0.0.1", "remark": "before\u{0}after" } }),
            Some(&token),
        )
        .await;
    let status = app
        .gql(
            CREATE,
            json!({ "input": { "ip": "10.0.0.1", "bpmStatus": "\u{0}" } }),
            Some(&token),
        )
        .await;

    // Assert
    assert_bad_input(&remark, "remark");
    assert_bad_input(&status, "bpmStatus");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_new_entry_records_who_created_it_and_when(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    app.create_user(
        "carol",
        "carol-password",
        &["blacklist:create", "blacklist:read"],
        Some("ORG-C"),
        Some("COMPANY-C"),
    )
    .await;
    let token = app.login("carol", "carol-password").await;
    // The server keeps microseconds; so must the lower bound, or it could lie after the stored instant.
    let before = Utc::now().trunc_subsecs(6);

    // Act
    let created = create_entry(
        &app,
        &token,
        json!({ "ip": "10.0.0.1", "remark": "seen scanning" }),
    )
    .await;

    // Assert
    let after = Utc::now();
    let id = created["id"].as_str().expect("an id");
    assert!(Uuid::parse_str(id).is_ok(), "{id}");
    let created_at = timestamp(&created["createdAt"]);
    assert_eq!(created_at.offset().local_minus_utc(), 0, "{created}");
    assert!(before <= created_at && created_at <= after, "{created}");
    assert_eq!(
        created,
        json!({
            "id": id,
            "ip": "10.0.0.1",
            "remark": "seen scanning",
            "bpmStatus": null,
            "createdBy": "carol",
            "createdByName": "carol display",
            "createdAt": created["createdAt"],
            "updatedBy": null,
            "updatedByName": null,
            "updatedAt": null,
            "orgCode": "ORG-C",
            "companyCode": "COMPANY-C",
        })
    );
    assert_eq!(read_entry(&app, &token, &created["id"]).await, created);
}

async fn clients_cannot_set_audit_fields(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(&app, &token, json!({ "ip": "10.0.0.1" })).await;
    let forged = [
        ("createdBy", "mallory"),
        ("createdByName", "Mallory"),
        ("createdAt", "2000-01-01T00:00:00Z"),
        ("updatedBy", "mallory"),
        ("orgCode", "ORG-X"),
        ("companyCode", "COMPANY-X"),
        ("id", "018f0000-0000-7000-8000-000000000000"),
    ];

    for (field, value) in forged {
        // Act: once written into the query, once sent as a variable.
        let inline_create = app
            .gql(
                &format!(
                    r#"mutation {{ createBlacklistEntry(input: {{ ip: "10.0.0.2", {field}: "{value}" }}) {{ id }} }}"#
                ),
                json!({}),
                Some(&token),
            )
            .await;
        let variable_create = app
            .gql(
                CREATE,
                json!({ "input": { "ip": "10.0.0.2", field: value } }),
                Some(&token),
            )
            .await;
        let inline_update = app
            .gql(
                &format!(
                    r#"mutation($id: ID!) {{ updateBlacklistEntry(id: $id, input: {{ {field}: "{value}" }}) {{ id }} }}"#
                ),
                json!({ "id": entry["id"] }),
                Some(&token),
            )
            .await;
        let variable_update = app
            .gql(
                UPDATE,
                json!({ "id": entry["id"], "input": { field: value } }),
                Some(&token),
            )
            .await;

        // Assert
        for body in [
            inline_create,
            variable_create,
            inline_update,
            variable_update,
        ] {
            assert_eq!(
                error_code(&body),
                "GRAPHQL_VALIDATION_FAILED",
                "{field}: {body}"
            );
            assert!(body["data"].is_null(), "{body}");
            let message = body["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(&format!("unknown field \"{field}\"")),
                "{body}"
            );
        }
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, entry);
}

async fn an_update_changes_only_the_given_fields_and_records_who_made_it(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let alice = app
        .token_with_permissions("alice", &["blacklist:create", "blacklist:read"])
        .await;
    let bob = app
        .token_with_permissions("bob", &["blacklist:update", "blacklist:read"])
        .await;
    let entry = create_entry(
        &app,
        &alice,
        json!({ "ip": "10.0.0.1", "remark": "first remark", "bpmStatus": "PENDING" }),
    )
    .await;

    // Act
    let body = app
        .gql(
            UPDATE,
            json!({ "id": entry["id"], "input": { "remark": "second remark" } }),
            Some(&bob),
        )
        .await;

    // Assert
    let updated = &body["data"]["updateBlacklistEntry"];
    assert!(updated.is_object(), "{body}");
    let updated_at = timestamp(&updated["updatedAt"]);
    assert_eq!(updated_at.offset().local_minus_utc(), 0, "{updated}");
    assert!(updated_at >= timestamp(&entry["createdAt"]), "{updated}");
    let mut expected = entry.clone();
    expected["remark"] = json!("second remark");
    expected["updatedBy"] = json!("bob");
    expected["updatedByName"] = json!("bob display");
    expected["updatedAt"] = updated["updatedAt"].clone();
    assert_eq!(*updated, expected);
    assert_eq!(read_entry(&app, &bob, &entry["id"]).await, expected);
}

async fn an_update_with_null_clears_the_remark_and_bpm_status(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.token_with_permissions("alice", &["blacklist:*"]).await;
    let entry = create_entry(
        &app,
        &token,
        json!({ "ip": "10.0.0.1", "remark": "a remark", "bpmStatus": "PENDING" }),
    )
    .await;

    // Act
    let body = app
        .gql(
            UPDATE,
            json!({ "id": entry["id"], "input": { "remark": null, "bpmStatus": null } }),
            Some(&token),
        )
        .await;

    // Assert
    let updated = &body["data"]["updateBlacklistEntry"];
    assert_eq!(updated["ip"], "10.0.0.1", "{body}");
    assert_eq!(updated["remark"], Value::Null, "{body}");
    assert_eq!(updated["bpmStatus"], Value::Null, "{body}");
    assert_eq!(updated["updatedBy"], "alice", "{body}");
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, *updated);
}

async fn an_update_stores_the_new_address_in_canonical_form(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(&app, &token, json!({ "ip": "10.0.0.1", "remark": "kept" })).await;

    // Act
    let body = app
        .gql(
            UPDATE,
            json!({ "id": entry["id"], "input": { "ip": "2001:0DB8::0:9" } }),
            Some(&token),
        )
        .await;

    // Assert
    let updated = &body["data"]["updateBlacklistEntry"];
    assert_eq!(updated["ip"], "2001:db8::9", "{body}");
    assert_eq!(updated["remark"], "kept", "{body}");
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, *updated);
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn an_update_may_respell_the_entrys_own_address(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(&app, &token, json!({ "ip": "192.0.2.1" })).await;

    // Act
    let body = app
        .gql(
            UPDATE,
            json!({ "id": entry["id"], "input": { "ip": "::ffff:192.0.2.1", "remark": "same host" } }),
            Some(&token),
        )
        .await;

    // Assert
    let updated = &body["data"]["updateBlacklistEntry"];
    assert_eq!(updated["ip"], "192.0.2.1", "{body}");
    assert_eq!(updated["remark"], "same host", "{body}");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn an_update_with_a_null_address_is_rejected(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(
        &app,
        &token,
        json!({ "ip": "10.0.0.1", "remark": "unchanged" }),
    )
    .await;

    // Act
    let body = app
        .gql(
            UPDATE,
            json!({ "id": entry["id"], "input": { "ip": null, "remark": "changed" } }),
            Some(&token),
        )
        .await;

    // Assert
    assert_bad_input(&body, "ip");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, entry);
}

async fn an_update_with_invalid_input_changes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(
        &app,
        &token,
        json!({ "ip": "10.0.0.1", "remark": "unchanged", "bpmStatus": "PENDING" }),
    )
    .await;
    let invalid = [
        (json!({ "ip": "10.0.0.7/8", "remark": "changed" }), "ip"),
        (json!({ "ip": "not-an-ip" }), "ip"),
        (json!({ "ip": "" }), "ip"),
        (json!({ "ip": "10.0.0.2", "remark": "" }), "remark"),
        (json!({ "remark": "   " }), "remark"),
        (json!({ "remark": "r".repeat(501) }), "remark"),
        (json!({ "remark": "nul\u{0}" }), "remark"),
        (
            json!({ "remark": "changed", "bpmStatus": "S".repeat(33) }),
            "bpmStatus",
        ),
        (json!({ "bpmStatus": "" }), "bpmStatus"),
    ];

    for (input, field) in invalid {
        // Act
        let body = app
            .gql(
                UPDATE,
                json!({ "id": entry["id"], "input": input }),
                Some(&token),
            )
            .await;

        // Assert
        assert_bad_input(&body, field);
        assert_eq!(read_entry(&app, &token, &entry["id"]).await, entry);
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
}

async fn moving_an_entry_onto_another_entrys_address_is_a_conflict(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let first = create_entry(&app, &token, json!({ "ip": "10.0.0.1", "remark": "first" })).await;
    let second = create_entry(
        &app,
        &token,
        json!({ "ip": "10.0.0.2", "remark": "second" }),
    )
    .await;

    // Act
    let body = app
        .gql(
            UPDATE,
            json!({ "id": second["id"], "input": { "ip": "::ffff:10.0.0.1", "remark": "moved" } }),
            Some(&token),
        )
        .await;

    // Assert
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(read_entry(&app, &token, &first["id"]).await, first);
    assert_eq!(read_entry(&app, &token, &second["id"]).await, second);
    assert_eq!(app.count_rows("blacklist_entry").await, 2);
}

async fn deleting_an_entry_returns_its_id_and_frees_its_address(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(&app, &token, json!({ "ip": "10.0.0.1" })).await;
    let other = create_entry(&app, &token, json!({ "ip": "10.0.0.2" })).await;

    // Act
    let deleted = app
        .gql(DELETE, json!({ "id": entry["id"] }), Some(&token))
        .await;
    let deleted_again = app
        .gql(DELETE, json!({ "id": entry["id"] }), Some(&token))
        .await;

    // Assert
    assert_eq!(
        deleted["data"]["deleteBlacklistEntry"], entry["id"],
        "{deleted}"
    );
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, Value::Null);
    assert_eq!(read_entry(&app, &token, &other["id"]).await, other);
    assert_eq!(error_code(&deleted_again), "NOT_FOUND", "{deleted_again}");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
    let recreated = create_entry(&app, &token, json!({ "ip": "10.0.0.1/32" })).await;
    assert_eq!(recreated["ip"], "10.0.0.1");
    assert_ne!(recreated["id"], entry["id"]);
}

async fn an_unknown_id_reads_as_null_and_cannot_be_updated_or_deleted(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(&app, &token, json!({ "ip": "10.0.0.1" })).await;
    let unknown = Uuid::now_v7().to_string();

    // Act
    let read = app.gql(READ, json!({ "id": unknown }), Some(&token)).await;
    let update = app
        .gql(
            UPDATE,
            json!({ "id": unknown, "input": { "remark": "ghost" } }),
            Some(&token),
        )
        .await;
    let delete = app
        .gql(DELETE, json!({ "id": unknown }), Some(&token))
        .await;

    // Assert
    assert_eq!(read, json!({ "data": { "blacklistEntry": null } }));
    assert_eq!(error_code(&update), "NOT_FOUND", "{update}");
    assert!(update["data"].is_null(), "{update}");
    assert_eq!(error_code(&delete), "NOT_FOUND", "{delete}");
    assert!(delete["data"].is_null(), "{delete}");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, entry);
}

async fn a_malformed_id_is_bad_user_input(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = create_entry(&app, &token, json!({ "ip": "10.0.0.1" })).await;

    // Act
    let read = app
        .gql(READ, json!({ "id": "not-a-uuid" }), Some(&token))
        .await;
    let update = app
        .gql(
            UPDATE,
            json!({ "id": "not-a-uuid", "input": { "remark": "x" } }),
            Some(&token),
        )
        .await;
    let delete = app
        .gql(DELETE, json!({ "id": "not-a-uuid" }), Some(&token))
        .await;

    // Assert
    assert_bad_input(&read, "id");
    assert_bad_input(&update, "id");
    assert_bad_input(&delete, "id");
    assert_eq!(app.count_rows("blacklist_entry").await, 1);
    assert_eq!(read_entry(&app, &token, &entry["id"]).await, entry);
}

crate::on_backends!([sqlite, postgres, mysql] [
    an_admin_can_create_an_entry_and_find_it_in_the_list,
    addresses_and_blocks_are_stored_in_their_canonical_form,
    a_block_with_host_bits_set_is_rejected,
    text_that_is_not_an_address_is_rejected,
    an_address_already_listed_under_any_spelling_is_a_conflict,
    concurrent_creates_of_one_address_store_it_exactly_once,
    remarks_and_bpm_statuses_are_stored_verbatim,
    a_remark_may_have_500_characters_but_not_501,
    an_empty_or_blank_remark_is_rejected,
    a_bpm_status_may_have_32_characters_but_not_33_nor_be_blank,
    text_containing_a_nul_character_is_rejected,
    a_new_entry_records_who_created_it_and_when,
    clients_cannot_set_audit_fields,
    an_update_changes_only_the_given_fields_and_records_who_made_it,
    an_update_with_null_clears_the_remark_and_bpm_status,
    an_update_stores_the_new_address_in_canonical_form,
    an_update_may_respell_the_entrys_own_address,
    an_update_with_a_null_address_is_rejected,
    an_update_with_invalid_input_changes_nothing,
    moving_an_entry_onto_another_entrys_address_is_a_conflict,
    deleting_an_entry_returns_its_id_and_frees_its_address,
    an_unknown_id_reads_as_null_and_cannot_be_updated_or_deleted,
    a_malformed_id_is_bad_user_input,
]);
