//! Hostile values: text that looks like SQL, script or terminal control is stored and returned
//! verbatim, and every odd spelling of an address is either refused or stored canonically.

use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, error_code, spawn_app},
    hostile_http::assert_unharmed,
};

const FIELDS: &str = "{ id ip remark bpmStatus createdBy updatedBy }";

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    let query = format!(
        "mutation($i: CreateBlacklistEntryInput!) {{ createBlacklistEntry(input: $i) {FIELDS} }}"
    );
    app.gql(&query, json!({ "i": input }), Some(token)).await
}

async fn update(app: &TestApp, token: &str, id: &Value, input: Value) -> Value {
    let query = format!(
        "mutation($id: ID!, $i: UpdateBlacklistEntryInput!) {{ updateBlacklistEntry(id: $id, input: $i) {FIELDS} }}"
    );
    app.gql(&query, json!({ "id": id, "i": input }), Some(token))
        .await
}

async fn read(app: &TestApp, token: &str, id: &Value) -> Value {
    let query = format!("query($id: ID!) {{ blacklistEntry(id: $id) {FIELDS} }}");
    let body = app.gql(&query, json!({ "id": id }), Some(token)).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["blacklistEntry"].clone()
}

/// Every entry, oldest first, with the total the server counts.
async fn list(app: &TestApp, token: &str, filter: Value) -> (Value, Value) {
    let query = format!(
        "query($f: BlacklistFilter) {{ blacklistEntries(filter: $f, first: 100) {{ totalCount nodes {FIELDS} }} }}"
    );
    let body = app.gql(&query, json!({ "f": filter }), Some(token)).await;
    let page = &body["data"]["blacklistEntries"];
    assert!(page.is_object(), "{body}");
    (page["totalCount"].clone(), page["nodes"].clone())
}

/// Text that a careless layer would execute, escape, render or normalise.
const HOSTILE_TEXTS: [&str; 16] = [
    "'; DROP TABLE blacklist_entry; --",
    "\"; DELETE FROM app_user; --",
    "<script>alert(1)</script>",
    "\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}[31mred\u{1b}[0m\u{7f}\r\nend",
    "evil\u{202e}gpj.exe",
    "\u{2066}isolated\u{2069} \u{200f}rtl mark",
    "🚫💣 𝕏 𠜎 👩‍👩‍👧‍👦",
    "%",
    "_",
    "\\",
    "100%_off \\' \\\" \\\\ %% __",
    "\u{feff}bom\u{200b}zero\u{200d}width\u{2060}",
    "e\u{301} is not é",
    "line\u{2028}separator\u{2029}paragraph\u{85}next",
    "${jndi:ldap://x/a} {{7*7}} %s%n%x $1 $& ../../etc/passwd",
    "\u{fffd}\u{fffe}\u{ffff}\u{10ffff}",
];

async fn hostile_text_round_trips_verbatim_through_create_read_list_and_update(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let mut entries = Vec::new();

    for (n, text) in HOSTILE_TEXTS.iter().enumerate() {
        let status: String = text.chars().take(32).collect();

        // Act
        let created = create(
            &app,
            &token,
            json!({ "ip": format!("203.0.113.{n}"), "remark": text, "bpmStatus": status }),
        )
        .await;

        // Assert
        let entry = created["data"]["createBlacklistEntry"].clone();
        assert_eq!(entry["remark"], *text, "{text:?}: {created}");
        assert_eq!(entry["bpmStatus"], status, "{text:?}: {created}");
        assert_eq!(read(&app, &token, &entry["id"]).await, entry, "{text:?}");
        entries.push(entry);
    }
    let (total, nodes) = list(&app, &token, json!({})).await;
    assert_eq!(total, HOSTILE_TEXTS.len());
    assert_eq!(nodes, json!(entries));

    // Act: each entry takes the next entry's text.
    for (n, entry) in entries.iter_mut().enumerate() {
        let text = HOSTILE_TEXTS[(n + 1) % HOSTILE_TEXTS.len()];
        let updated = update(&app, &token, &entry["id"], json!({ "remark": text })).await;

        // Assert
        let updated = updated["data"]["updateBlacklistEntry"].clone();
        entry["remark"] = json!(text);
        entry["updatedBy"] = json!("admin");
        assert_eq!(updated, *entry, "{text:?}");
        assert_eq!(read(&app, &token, &entry["id"]).await, *entry, "{text:?}");
    }
    let (total, nodes) = list(&app, &token, json!({})).await;
    assert_eq!(total, HOSTILE_TEXTS.len());
    assert_eq!(nodes, json!(entries));
    assert_unharmed(&app, &token, 16).await;
}

async fn filter_text_is_matched_literally_never_as_a_pattern_or_sql(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    for ip in ["203.0.113.1", "203.0.113.2", "2001:db8::1"] {
        let created = create(&app, &token, json!({ "ip": ip })).await;
        assert!(created["errors"].is_null(), "{created}");
    }
    let cases = [
        (json!({ "ipContains": "_" }), 0),
        (json!({ "ipContains": "\\" }), 0),
        (json!({ "ipContains": "\\%" }), 0),
        (json!({ "ipContains": "[0-9]" }), 0),
        (json!({ "ipContains": ".*" }), 0),
        (json!({ "ipContains": "' OR '1'='1" }), 0),
        (json!({ "ipContains": "%' OR 1=1 --" }), 0),
        (json!({ "ipContains": "203.0.113." }), 2),
        (json!({ "ipContains": "DB8::" }), 1),
        (json!({ "createdBy": "%" }), 0),
        (json!({ "createdBy": "_dmin" }), 0),
        (json!({ "createdBy": "ADMIN" }), 0),
        (json!({ "createdBy": "admin' --" }), 0),
        (json!({ "createdBy": "admin" }), 3),
    ];

    for (filter, expected) in cases {
        // Act
        let (total, nodes) = list(&app, &token, filter.clone()).await;

        // Assert
        assert_eq!(total, expected, "{filter}");
        assert_eq!(nodes.as_array().map(Vec::len), Some(expected), "{filter}");
        assert_unharmed(&app, &token, 3).await;
    }
}

/// What the server must do with an address.
#[derive(Debug)]
enum Outcome {
    /// Store it in this canonical form.
    Stored(&'static str),
    /// Refuse it as BAD_USER_INPUT on `ip`.
    BadInput,
    /// Refuse it as CONFLICT: it respells 10.1.2.3, the entry every case also tries to update.
    Respelling,
    /// Refuse it as CONFLICT: it respells an address an earlier case stored.
    Taken,
}

fn address_cases() -> Vec<(String, Outcome)> {
    use Outcome::{BadInput, Respelling, Stored, Taken};
    let fixed = [
        ("::ffff:10.1.2.3", Respelling),
        ("::FFFF:10.1.2.3/128", Respelling),
        ("0:0:0:0:0:ffff:10.1.2.3", Respelling),
        ("::ffff:a01:203", Respelling),
        ("::ffff:10.1.2.4", Stored("10.1.2.4")),
        ("::10.1.2.5", Stored("::a01:205")),
        ("fe80::1%eth0", BadInput),
        ("fe80::1%25eth0", BadInput),
        ("fe80::1%1", BadInput),
        ("010.001.002.003", BadInput),
        ("10.1.2.03", BadInput),
        ("0x0a.0.0.1", BadInput),
        ("0xa010203", BadInput),
        ("012.1.2.3", BadInput),
        ("167772161", BadInput),
        ("10.66051", BadInput),
        ("10.1.515", BadInput),
        ("10.1.2.3.", BadInput),
        (".10.1.2.3", BadInput),
        ("10.1.2.3..", BadInput),
        ("10.1. 2.3", BadInput),
        ("10.1.2.3 /32", BadInput),
        ("10.1.2.3/ 32", BadInput),
        ("10.1\t.2.3", BadInput),
        ("2001:db8:: 1", BadInput),
        ("1:2:3:4:5:6:7:8:9", BadInput),
        ("1:2:3:4:5:6:7:8::", BadInput),
        ("1::2::3", BadInput),
        (":::", BadInput),
        ("::", Stored("::")),
        ("0:0:0:0:0:0:0:0", Taken),
        ("::0/128", Taken),
        ("10.0.0.0/033", BadInput),
        ("10.1.2.3/032", BadInput),
        ("10.0.0.0/+8", BadInput),
        ("10.0.0.0/8/8", BadInput),
        ("10.0.0.0/256", BadInput),
        ("10.0.0.0/99999999999999999999", BadInput),
        ("/24", BadInput),
        ("2001:db8::/129", BadInput),
        ("١٠.١.٢.٣", BadInput),
        ("１０.１.２.３", BadInput),
        ("10.1.2.３", BadInput),
        ("𝟏𝟎.1.2.3", BadInput),
        ("10。1。2。3", BadInput),
        ("10.1.2.3\u{200b}", BadInput),
        ("[::1]", BadInput),
        ("10.1.2.3:80", BadInput),
        ("http://10.1.2.3/", BadInput),
        ("10.1.2.3,10.1.2.4", BadInput),
        ("10.1.2.3\n10.1.2.4", BadInput),
        ("\u{3000}10.1.2.10\u{a0}", Stored("10.1.2.10")),
        ("255.255.255.255", Stored("255.255.255.255")),
        (
            "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF/128",
            Stored("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ),
    ];
    let mut cases: Vec<(String, Outcome)> = fixed
        .into_iter()
        .map(|(input, outcome)| (input.to_owned(), outcome))
        .collect();
    cases.push(("1".repeat(10_000), BadInput));
    cases.push(("10.1.2.3/".repeat(1_112), BadInput));
    cases.push((format!("{}10.1.2.9", " ".repeat(9_992)), Stored("10.1.2.9")));
    cases
}

async fn odd_address_spellings_are_refused_or_stored_canonically(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let existing = create(&app, &token, json!({ "ip": "10.1.2.3", "remark": "first" })).await;
    let existing = existing["data"]["createBlacklistEntry"].clone();
    assert_eq!(existing["ip"], "10.1.2.3", "{existing}");
    let mut rows = 1;

    for (input, outcome) in address_cases() {
        let shown: String = input.chars().take(40).collect();

        // Act
        let created = create(&app, &token, json!({ "ip": input })).await;
        let updated = update(&app, &token, &existing["id"], json!({ "ip": input })).await;

        // Assert
        match outcome {
            Outcome::Stored(canonical) => {
                let entry = &created["data"]["createBlacklistEntry"];
                assert_eq!(entry["ip"], canonical, "{shown:?}: {created}");
                assert_eq!(read(&app, &token, &entry["id"]).await["ip"], canonical);
                // The existing entry cannot move onto the address just stored.
                assert_eq!(error_code(&updated), "CONFLICT", "{shown:?}: {updated}");
                rows += 1;
            }
            Outcome::BadInput => {
                for body in [&created, &updated] {
                    assert_eq!(error_code(body), "BAD_USER_INPUT", "{shown:?}: {body}");
                    assert_eq!(body["errors"][0]["extensions"]["field"], "ip", "{body}");
                    assert!(body["data"].is_null(), "{shown:?}: {body}");
                }
            }
            Outcome::Taken => {
                for body in [&created, &updated] {
                    assert_eq!(error_code(body), "CONFLICT", "{shown:?}: {body}");
                    assert!(body["data"].is_null(), "{shown:?}: {body}");
                }
            }
            Outcome::Respelling => {
                assert_eq!(error_code(&created), "CONFLICT", "{shown:?}: {created}");
                assert!(created["data"].is_null(), "{created}");
                // Respelling the entry's own address is no conflict, and keeps it canonical.
                let entry = &updated["data"]["updateBlacklistEntry"];
                assert_eq!(entry["ip"], "10.1.2.3", "{shown:?}: {updated}");
            }
        }
        assert_eq!(read(&app, &token, &existing["id"]).await["ip"], "10.1.2.3");
        assert_unharmed(&app, &token, rows).await;
    }
}

async fn a_block_of_every_address_is_refused(backend: Backend) {
    // Arrange: the blacklist is enforced on every request, so one such entry would refuse every
    // client of its family, the admin who made it included, with no way back over the API.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;

    for ip in ["0.0.0.0/0", "::/0", "0::/0", "::ffff:0.0.0.0/96"] {
        // Act
        let body = create(&app, &token, json!({ "ip": ip })).await;

        // Assert
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{ip}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "ip", "{body}");
        assert_unharmed(&app, &token, 0).await;
    }
}

crate::on_backends!([sqlite, postgres] [
    hostile_text_round_trips_verbatim_through_create_read_list_and_update,
    filter_text_is_matched_literally_never_as_a_pattern_or_sql,
    odd_address_spellings_are_refused_or_stored_canonically,
    a_block_of_every_address_is_refused,
]);
