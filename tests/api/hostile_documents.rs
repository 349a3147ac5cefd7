//! Hostile documents: nesting, width, cycles, unknown names, ill-typed variables and ambiguous
//! operations. Each is refused before anything runs, and the server keeps answering.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, spawn_app},
    hostile_http::{assert_refused_before_execution, assert_unharmed, post},
};

/// `levels` nested `ofType` selections under `__type`, one field per level.
fn nested_of_type(levels: usize) -> String {
    format!(
        r#"{{ __type(name: "Query") {}name{} }}"#,
        "ofType { ".repeat(levels),
        " }".repeat(levels)
    )
}

async fn documents_nested_too_deep_are_refused_before_execution(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let via_fragments = concat!(
        "{ __schema { types { ...T } } } ",
        "fragment T on __Type { fields { type { ...U } } } ",
        "fragment U on __Type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }",
    );
    // QUERY_MAX_DEPTH (10) outside introspection; under `__schema` the depth of the standard
    // introspection query (15), as the fragments reach.
    let too_deep = "nests fields";
    let cases = [
        (
            "11 levels of ofType",
            nested_of_type(11),
            "GRAPHQL_VALIDATION_FAILED",
            too_deep,
        ),
        (
            "40 levels of ofType",
            nested_of_type(40),
            "GRAPHQL_VALIDATION_FAILED",
            too_deep,
        ),
        (
            "depth through fragments",
            via_fragments.to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
            too_deep,
        ),
        (
            "deeper than the parser goes",
            nested_of_type(70),
            "GRAPHQL_PARSE_FAILED",
            "recursion limit exceeded",
        ),
        (
            "deeper than the grammar goes, refused before parsing",
            nested_of_type(5000),
            "GRAPHQL_VALIDATION_FAILED",
            "tokens",
        ),
    ];

    for (case, query, code, message) in cases {
        // Act
        let body = app.gql(&query, json!({}), Some(&token)).await;

        // Assert
        assert_refused_before_execution(&body, code, case);
        let actual = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(actual.contains(message), "{case}: {body}");
        assert_unharmed(&app, &token, 0).await;
    }
    let shallow = app.gql(&nested_of_type(8), json!({}), Some(&token)).await;
    assert_eq!(
        shallow["data"]["__type"]["ofType"],
        Value::Null,
        "{shallow}"
    );
}

/// `copies` aliased copies of `field`, in one selection set.
fn aliased(copies: usize, field: &str) -> String {
    (0..copies).map(|n| format!("a{n}: {field} ")).collect()
}

async fn very_wide_documents_are_refused_before_execution(backend: Backend) {
    // Arrange: the token limit meets the largest documents first, then the alias limit, the
    // refusal of repeated fields and the complexity limit.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let entry = "{ id ip remark bpmStatus createdBy createdByName createdAt updatedBy updatedByName updatedAt orgCode companyCode }";
    let connection = format!(
        "blacklistEntries {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} nodes {entry} edges {{ cursor node {entry} }} }}"
    );
    let aliased_creates: String = (0..80)
        .map(|n| format!(r#"c{n}: createBlacklistEntry(input: {{ ip: "10.7.0.{n}" }}) {entry} "#))
        .collect();
    let repeated_create = format!(r#"createBlacklistEntry(input: {{ ip: "10.7.1.1" }}) {entry} "#);
    let fragments: String = (0..5000)
        .map(|n| format!("fragment F{n} on Principal {{ username }} "))
        .collect();
    let spreads: String = (0..5000).map(|n| format!("...F{n} ")).collect();
    let too_complex = "Query is too complex.";
    let too_many_aliases = "aliases";
    // QUERY_MAX_TOKENS (2000) stops the largest documents before they are parsed at all.
    let too_many_tokens = "tokens";
    let repeated = "is selected more than once";
    let cases = [
        (
            "2000 aliases of me",
            format!("{{ {} }}", aliased(2000, "me { username }")),
            too_many_tokens,
        ),
        (
            "300 aliases of __typename",
            format!("{{ {} }}", aliased(300, "__typename")),
            too_many_aliases,
        ),
        (
            "50 000 aliases of __typename",
            format!("{{ {} }}", aliased(50_000, "__typename")),
            too_many_tokens,
        ),
        (
            "80 aliased creates",
            format!("mutation {{ {aliased_creates} }}"),
            too_many_tokens,
        ),
        (
            "2000 unaliased copies of me",
            format!("{{ {} }}", "me { username } ".repeat(2000)),
            too_many_tokens,
        ),
        (
            "200 unaliased copies of me",
            format!("{{ {} }}", "me { username } ".repeat(200)),
            repeated,
        ),
        (
            "1900 copies of one field",
            format!("{{ me {{ {} }} }}", "username ".repeat(1900)),
            too_complex,
        ),
        (
            "40 000 copies of one field",
            format!("{{ me {{ {} }} }}", "username ".repeat(40_000)),
            too_many_tokens,
        ),
        (
            "29 aliased connections",
            format!("{{ {} }}", aliased(29, &connection)),
            too_complex,
        ),
        (
            "5000 fragments",
            format!("{{ me {{ {spreads} }} }} {fragments}"),
            too_many_tokens,
        ),
        (
            "100 unaliased copies of a create",
            format!("mutation {{ {} }}", repeated_create.repeat(100)),
            too_many_tokens,
        ),
        (
            "20 unaliased copies of a create",
            format!("mutation {{ {} }}", repeated_create.repeat(20)),
            repeated,
        ),
    ];

    for (case, query, message) in cases {
        // Act
        let body = app.gql(&query, json!({}), Some(&token)).await;

        // Assert
        assert_refused_before_execution(&body, "GRAPHQL_VALIDATION_FAILED", case);
        let actual = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(actual.contains(message), "{case}: {body}");
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn malformed_documents_are_refused_before_execution(backend: Backend) {
    // Arrange: each document, if it ran, would create an entry.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let create = r#"createBlacklistEntry(input: { ip: "10.8.0.1" })"#;
    let cases = [
        (
            "a fragment cycle",
            format!(
                "mutation {{ {create} {{ ...A }} }} fragment A on BlacklistEntry {{ id ...B }} fragment B on BlacklistEntry {{ ip ...A }}"
            ),
        ),
        (
            "a fragment spreading itself",
            format!(
                "mutation {{ {create} {{ ...A }} }} fragment A on BlacklistEntry {{ id ...A }}"
            ),
        ),
        (
            "an unknown field in the selection",
            format!("mutation {{ {create} {{ id passwordHash }} }}"),
        ),
        (
            "an unknown root field",
            "mutation { dropBlacklist }".to_owned(),
        ),
        (
            "an unknown argument",
            r#"mutation { createBlacklistEntry(input: { ip: "10.8.0.1" }, force: true) { id } }"#
                .to_owned(),
        ),
        (
            "an unknown argument on me",
            r#"{ me(as: "root") { username } }"#.to_owned(),
        ),
        (
            "an unknown fragment",
            format!("mutation {{ {create} {{ ...Missing }} }}"),
        ),
        (
            "a fragment on the wrong type",
            format!("mutation {{ {create} {{ ...P }} }} fragment P on Principal {{ username }}"),
        ),
        (
            "an undeclared variable",
            r#"mutation { createBlacklistEntry(input: { ip: $ip }) { id } }"#.to_owned(),
        ),
        (
            "a subscription",
            "subscription { me { username } }".to_owned(),
        ),
        (
            "a selection on a scalar",
            format!("mutation {{ {create} {{ id {{ x }} }} }}"),
        ),
        (
            "no selection on an object",
            format!("mutation {{ {create} }}"),
        ),
        (
            "an unknown directive",
            format!("mutation {{ {create} @admin {{ id }} }}"),
        ),
        (
            "a list nested 1000 deep for an Int",
            format!(
                "{{ blacklistEntries(first: {}1{}) {{ totalCount }} }}",
                "[".repeat(1000),
                "]".repeat(1000)
            ),
        ),
    ];

    for (case, query) in cases {
        // Act
        let body = app.gql(&query, json!({}), Some(&token)).await;

        // Assert
        assert_refused_before_execution(&body, "GRAPHQL_VALIDATION_FAILED", case);
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn variables_of_the_wrong_shape_are_refused_before_execution(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let create =
        "mutation($i: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $i) { id } }";
    let page = "query($n: Int) { blacklistEntries(first: $n) { totalCount } }";
    let read = "query($id: ID!) { blacklistEntry(id: $id) { id } }";
    let cases = [
        (
            "a number for a String",
            create,
            json!({ "i": { "ip": 167_772_161 } }),
        ),
        (
            "an object for a String",
            create,
            json!({ "i": { "ip": { "$gt": "" } } }),
        ),
        (
            "a list for a String",
            create,
            json!({ "i": { "ip": ["10.9.0.1"] } }),
        ),
        (
            "a boolean for a String",
            create,
            json!({ "i": { "ip": "10.9.0.1", "remark": true } }),
        ),
        (
            "null for a non-null field",
            create,
            json!({ "i": { "ip": null } }),
        ),
        (
            "an unknown input field",
            create,
            json!({ "i": { "ip": "10.9.0.1", "isAdmin": true } }),
        ),
        ("a float for an Int", page, json!({ "n": 1.5 })),
        (
            "an object for an Int",
            page,
            json!({ "n": { "valueOf": 1 } }),
        ),
        ("a boolean for an ID", read, json!({ "id": true })),
        ("a list for an ID", read, json!({ "id": ["a", "b"] })),
        ("null for an ID!", read, json!({ "id": null })),
        (
            "a variable declared with the wrong type",
            "mutation($i: String!) { createBlacklistEntry(input: { ip: $i }) { id } }",
            json!({ "i": 5 }),
        ),
        (
            "a variable used where its type does not fit",
            "query($f: Boolean) { blacklistEntries(first: $f) { totalCount } }",
            json!({ "f": true }),
        ),
    ];

    for (case, query, variables) in cases {
        // Act
        let body = app.gql(query, variables, Some(&token)).await;

        // Assert
        assert_refused_before_execution(&body, "GRAPHQL_VALIDATION_FAILED", case);
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn an_operation_must_be_named_unambiguously(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let two = r#"query Q { me { username } } mutation M { createBlacklistEntry(input: { ip: "10.9.1.1" }) { id } }"#;
    let anonymous = r#"mutation { createBlacklistEntry(input: { ip: "10.9.1.1" }) { id } }"#;
    let cases = [
        ("an operation name that does not exist", two, Some("X")),
        ("two operations without a name", two, None),
        ("a name for an anonymous operation", anonymous, Some("M")),
        ("an empty operation name", two, Some("")),
        ("an operation name of the wrong case", two, Some("m")),
    ];

    for (case, query, operation_name) in cases {
        // Act
        let reply = post(
            &app,
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            json!({ "query": query, "operationName": operation_name }).to_string(),
        )
        .await;

        // Assert
        assert_eq!(reply.status, StatusCode::OK, "{case}");
        assert_refused_before_execution(&reply.json(), "GRAPHQL_VALIDATION_FAILED", case);
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn documents_with_ambiguous_operations_are_refused_unparsed(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let create = r#"createBlacklistEntry(input: { ip: "10.9.2.1" }) { id }"#;
    let cases = [
        (
            "two operations with one name",
            format!("mutation M {{ {create} }} mutation M {{ {create} }}"),
        ),
        (
            "an anonymous operation beside a named one",
            format!("{{ me {{ username }} }} mutation M {{ {create} }}"),
        ),
        (
            "two anonymous operations",
            format!("mutation {{ {create} }} mutation {{ {create} }}"),
        ),
        (
            "two fragments with one name",
            format!(
                "mutation {{ {create} }} fragment F on Principal {{ username }} fragment F on Principal {{ username }}"
            ),
        ),
    ];

    for (case, query) in cases {
        // Act
        let body = app.gql(&query, json!({}), Some(&token)).await;

        // Assert
        assert_refused_before_execution(&body, "GRAPHQL_PARSE_FAILED", case);
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn a_request_without_a_document_fails_to_parse(backend: Backend) {
    // Arrange: async-graphql reads a missing query as an empty one, so these are GraphQL errors, not 400s.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let bearer = format!("Bearer {token}");
    let cases = [
        json!({}),
        json!({ "query": "" }),
        json!({ "query": " \n\t, " }),
        json!({ "query": "# only a comment" }),
        json!({ "variables": { "i": { "ip": "10.9.3.1" } }, "operationName": "M" }),
    ];

    for request in cases {
        // Act
        let reply = post(
            &app,
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            request.to_string(),
        )
        .await;

        // Assert
        assert_eq!(reply.status, StatusCode::OK, "{request}: {}", reply.text);
        assert_refused_before_execution(
            &reply.json(),
            "GRAPHQL_PARSE_FAILED",
            &request.to_string(),
        );
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn a_variable_of_the_wrong_type_stops_the_whole_operation(backend: Backend) {
    // Arrange: in each document the first field is valid and the second's variable is missing or
    // of the wrong type. Coercing variables comes before execution (GraphQL spec 6.1.2), so no
    // field may run: a request error without a path, and no data at all.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let create = concat!(
        "mutation($i: CreateBlacklistEntryInput!) { ",
        r#"a: createBlacklistEntry(input: { ip: "10.9.4.1" }) { id } "#,
        "b: createBlacklistEntry(input: $i) { id } }",
    );
    let page =
        "query($n: Int) { a: me { username } b: blacklistEntries(first: $n) { totalCount } }";
    let cases = [
        (create, json!({ "i": "ip: 10.9.4.2" })),
        (create, json!({ "i": 167_772_161 })),
        (create, json!({ "i": [{ "ip": "10.9.4.2" }] })),
        (create, json!({ "i": true })),
        (create, json!({ "i": null })),
        (create, json!({})),
        (create, json!({ "input": { "ip": "10.9.4.2" } })),
        (page, json!({ "n": 4_294_967_296_i64 })),
        (page, json!({ "n": -2_147_483_649_i64 })),
    ];

    for (query, variables) in cases {
        // Act
        let body = app.gql(query, variables.clone(), Some(&token)).await;

        // Assert
        assert_refused_before_execution(&body, "GRAPHQL_VALIDATION_FAILED", &variables.to_string());
        assert_unharmed(&app, &token, 0).await;
    }
}

crate::on_backends!([sqlite, postgres] [
    documents_nested_too_deep_are_refused_before_execution,
    very_wide_documents_are_refused_before_execution,
    malformed_documents_are_refused_before_execution,
    variables_of_the_wrong_shape_are_refused_before_execution,
    an_operation_must_be_named_unambiguously,
    documents_with_ambiguous_operations_are_refused_unparsed,
    a_request_without_a_document_fails_to_parse,
    a_variable_of_the_wrong_type_stops_the_whole_operation,
]);
