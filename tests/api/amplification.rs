//! Database amplification: one request must not make the server run a multiple of the statements
//! its document names. A field repeated under one response key is refused, a connection's
//! complexity grows with its page, and QUERY_MAX_DB_STATEMENTS refuses a document before it runs.

use serde_json::{Value, json};

use crate::helpers::{Backend, error_code, spawn_app, spawn_app_with};

const LIST: &str = "blacklistEntries(first: 100) { totalCount }";

fn assert_refused(body: &Value, message: &str, case: &str) {
    assert_eq!(
        error_code(body),
        "GRAPHQL_VALIDATION_FAILED",
        "{case}: {body}"
    );
    assert_eq!(body["data"], Value::Null, "{case}: {body}");
    let actual = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(actual.contains(message), "{case}: {body}");
}

async fn a_field_repeated_without_aliases_is_refused_however_it_is_spelled(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let reader = app
        .token_with_permissions("reader", &["blacklist:read"])
        .await;
    let cases = [
        ("the same field twice", format!("{{ {LIST} {LIST} }}")),
        ("a hundred times", format!("{{ {} }}", LIST.repeat(100))),
        (
            "through inline fragments",
            format!("{{ ... {{ {LIST} }} ... {{ {LIST} }} }}"),
        ),
        (
            "one fragment spread twice",
            format!("{{ ...F ... {{ ...F }} }} fragment F on Query {{ {LIST} }}"),
        ),
        (
            "two fragments selecting the same key",
            format!(
                "{{ ...F ...G }} fragment F on Query {{ {LIST} }} fragment G on Query {{ {LIST} }}"
            ),
        ),
    ];

    for (case, query) in cases {
        // Act
        let body = app.gql(&query, json!({}), Some(&reader)).await;

        // Assert
        assert_refused(&body, "`blacklistEntries` is selected more than once", case);
    }
    let once = app
        .gql(&format!("{{ {LIST} }}"), json!({}), Some(&reader))
        .await;
    assert_eq!(
        once,
        json!({ "data": { "blacklistEntries": { "totalCount": 0 } } })
    );
}

async fn a_repeated_mutation_is_refused_and_writes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let create = r#"createBlacklistEntry(input: { ip: "192.0.2.1" }) { id } "#;

    // Act
    let body = app
        .gql(
            &format!("mutation {{ {} }}", create.repeat(5)),
            json!({}),
            Some(&admin),
        )
        .await;

    // Assert
    assert_refused(
        &body,
        "`createBlacklistEntry` is selected more than once",
        "5 creates",
    );
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn overlapping_leaf_fields_in_fragments_still_run(backend: Backend) {
    // Arrange: the way client libraries write fragments, each naming the fields it needs.
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let query = "{ me { username ...P username } blacklistEntries { totalCount ...C } } \
                 fragment P on Principal { username kind } \
                 fragment C on BlacklistEntryConnection { totalCount }";

    // Act
    let body = app.gql(query, json!({}), Some(&admin)).await;

    // Assert
    assert_eq!(
        body,
        json!({ "data": {
            "me": { "username": "admin", "kind": "USER" },
            "blacklistEntries": { "totalCount": 0 },
        } })
    );
}

async fn a_connections_complexity_grows_with_its_page_size(backend: Backend) {
    // Arrange: ten aliased connections; QUERY_MAX_COMPLEXITY is 1000.
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let aliased = |first: u32| -> String {
        let fields: String = (0..10)
            .map(|n| format!("c{n}: blacklistEntries(first: {first}) {{ totalCount }} "))
            .collect();
        format!("{{ {fields}}}")
    };

    // Act
    let small_pages = app.gql(&aliased(10), json!({}), Some(&admin)).await;
    let full_pages = app.gql(&aliased(100), json!({}), Some(&admin)).await;
    let by_variable = app
        .gql(
            "query($n: Int) { a: blacklistEntries(first: $n) { totalCount } b: blacklistEntries(first: $n) { totalCount } \
             c: blacklistEntries(first: $n) { totalCount } d: blacklistEntries(first: $n) { totalCount } \
             e: blacklistEntries(first: $n) { totalCount } f: blacklistEntries(first: $n) { totalCount } \
             g: blacklistEntries(first: $n) { totalCount } h: blacklistEntries(first: $n) { totalCount } \
             i: blacklistEntries(first: $n) { totalCount } j: blacklistEntries(first: $n) { totalCount } }",
            json!({ "n": 100 }),
            Some(&admin),
        )
        .await;

    // Assert
    assert_eq!(small_pages["errors"], Value::Null, "{small_pages}");
    assert_refused(&full_pages, "Query is too complex", "ten full pages");
    assert_refused(
        &by_variable,
        "Query is too complex",
        "page size from a variable",
    );
}

async fn a_document_over_the_statement_budget_is_refused_before_it_runs(backend: Backend) {
    // Arrange: a page costs two statements (rows and count), a create two (the entry and its
    // audit line).
    let app = spawn_app_with(backend, |config| config.query_max_db_statements = 5).await;
    let admin = app.admin_token().await;
    let list_fields = |n: usize| -> String {
        (0..n)
            .map(|i| format!("l{i}: blacklistEntries(first: 1) {{ totalCount }} "))
            .collect()
    };
    let lists = |n: usize| format!("{{ {}}}", list_fields(n));
    let creates = |n: usize| -> String {
        let fields: String = (0..n)
            .map(|i| {
                format!(r#"c{i}: createBlacklistEntry(input: {{ ip: "192.0.2.{i}" }}) {{ id }} "#)
            })
            .collect();
        format!("mutation {{ {fields}}}")
    };

    // Act
    let within = app.gql(&lists(2), json!({}), Some(&admin)).await;
    let over = app.gql(&lists(3), json!({}), Some(&admin)).await;
    let through_fragments = app
        .gql(
            &format!(
                "{{ ...F ...G }} fragment F on Query {{ {}}} \
                 fragment G on Query {{ x: blacklistEntries {{ totalCount }} }}",
                list_fields(2)
            ),
            json!({}),
            Some(&admin),
        )
        .await;
    let too_many_writes = app.gql(&creates(3), json!({}), Some(&admin)).await;
    let writes_within = app.gql(&creates(2), json!({}), Some(&admin)).await;

    // Assert
    assert_eq!(within["errors"], Value::Null, "{within}");
    let refusal = "the document may run 6 database statements; at most 5 are allowed";
    assert_refused(&over, refusal, "three pages");
    assert_refused(&through_fragments, refusal, "three pages through fragments");
    assert_refused(&too_many_writes, refusal, "three creates");
    assert_eq!(writes_within["errors"], Value::Null, "{writes_within}");
    assert_eq!(app.count_rows("blacklist_entry").await, 2);
}

crate::on_backends!([sqlite, postgres] [
    a_field_repeated_without_aliases_is_refused_however_it_is_spelled,
    a_repeated_mutation_is_refused_and_writes_nothing,
    overlapping_leaf_fields_in_fragments_still_run,
    a_connections_complexity_grows_with_its_page_size,
    a_document_over_the_statement_budget_is_refused_before_it_runs,
]);
