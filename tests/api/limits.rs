//! Request limits: aliases, batches, depth, the execution deadline, and the introspection and
//! playground switches.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Backend, TestApp, error_code, spawn_app, spawn_app_with};

/// QUERY_MAX_ALIASES and BATCH_MAX_SIZE's defaults.
const MAX_ALIASES: usize = 30;
const MAX_BATCH: usize = 10;
const INTROSPECT: &str = "{ __schema { types { name } } }";

/// A mutation creating `n` blacklist entries, each under an alias of its own.
fn aliased_creates(n: usize) -> String {
    let fields: String = (0..n)
        .map(|i| format!(r#"e{i}: createBlacklistEntry(input: {{ ip: "192.0.2.{i}" }}) {{ id }} "#))
        .collect();
    format!("mutation {{ {fields}}}")
}

/// POSTs `body` (a JSON array for a batch) as the admin, keeping the status.
async fn post_json(app: &TestApp, body: &Value, token: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request reaches the server");
    let status = response.status();
    (status, response.json().await.expect("the body is JSON"))
}

fn batch_of(n: usize, query: &str) -> Value {
    Value::Array((0..n).map(|_| json!({ "query": query })).collect())
}

async fn more_aliases_than_allowed_is_refused_before_anything_runs(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let body = app
        .gql(&aliased_creates(MAX_ALIASES + 1), json!({}), Some(&admin))
        .await;

    // Assert
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        format!(
            "the document has {} aliases; at most {MAX_ALIASES} are allowed",
            MAX_ALIASES + 1
        )
    );
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn exactly_as_many_aliases_as_allowed_run(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let body = app
        .gql(&aliased_creates(MAX_ALIASES), json!({}), Some(&admin))
        .await;

    // Assert
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert_eq!(
        body["data"].as_object().map(serde_json::Map::len),
        Some(MAX_ALIASES)
    );
    assert_eq!(app.count_rows("blacklist_entry").await, MAX_ALIASES as i64);
}

async fn a_batch_of_two_operations_answers_with_two_results_in_order(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let batch = json!([
        { "query": "{ me { username } }" },
        { "query": "query($ip: String!) { isBlocked(ip: $ip) }", "variables": { "ip": "192.0.2.1" } },
    ]);

    // Act
    let answer = post_json(&app, &batch, &admin).await;

    // Assert
    assert_eq!(
        answer,
        (
            StatusCode::OK,
            json!([
                { "data": { "me": { "username": "admin" } } },
                { "data": { "isBlocked": false } },
            ])
        )
    );
}

async fn a_batch_of_the_largest_allowed_size_runs_every_operation(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let answer = post_json(&app, &batch_of(MAX_BATCH, "{ me { username } }"), &admin).await;

    // Assert
    let expected: Vec<Value> = (0..MAX_BATCH)
        .map(|_| json!({ "data": { "me": { "username": "admin" } } }))
        .collect();
    assert_eq!(answer, (StatusCode::OK, Value::Array(expected)));
}

async fn a_batch_over_the_limit_is_a_bad_request_and_runs_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let batch = Value::Array(
        (0..=MAX_BATCH)
            .map(|i| {
                json!({
                    "query": "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id } }",
                    "variables": { "ip": format!("192.0.2.{i}") },
                })
            })
            .collect(),
    );

    // Act
    let answer = post_json(&app, &batch, &admin).await;

    // Assert
    assert_eq!(
        answer,
        (
            StatusCode::BAD_REQUEST,
            json!({ "errors": [{
                "message": format!("a batch must hold 1 to {MAX_BATCH} operations"),
                "extensions": { "code": "BAD_REQUEST" },
            }] })
        )
    );
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn an_empty_batch_is_an_empty_document(backend: Backend) {
    // Arrange: JSON `[]` reads as a request with every field left out, like `{}`.
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;

    // Act
    let (status, body) = post_json(&app, &json!([]), &admin).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED", "{body}");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
}

async fn a_query_deeper_than_query_max_depth_fails_validation_and_one_at_it_runs(backend: Backend) {
    // Arrange: this schema's own types nest four deep at most, so the limit is lowered to 3.
    let app = spawn_app_with(backend, |config| config.query_max_depth = 3).await;
    let admin = app.admin_token().await;

    // Act
    let too_deep = app
        .gql(
            "{ blacklistEntries { edges { node { id } } } }",
            json!({}),
            Some(&admin),
        )
        .await;
    let deepest_allowed = app
        .gql(
            "{ blacklistEntries { nodes { id } } }",
            json!({}),
            Some(&admin),
        )
        .await;

    // Assert
    assert_eq!(
        error_code(&too_deep),
        "GRAPHQL_VALIDATION_FAILED",
        "{too_deep}"
    );
    assert_eq!(
        too_deep["errors"][0]["message"],
        "the document nests fields 4 deep; at most 3 are allowed"
    );
    assert_eq!(too_deep["data"], Value::Null, "{too_deep}");
    assert_eq!(deepest_allowed["errors"], Value::Null, "{deepest_allowed}");
    assert!(
        deepest_allowed["data"]["blacklistEntries"]["nodes"].is_array(),
        "{deepest_allowed}"
    );
}

async fn introspection_is_served_by_default(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let body = app.gql(INTROSPECT, json!({}), None).await;

    // Assert
    assert_eq!(body["errors"], Value::Null, "{body}");
    let types = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("no types in {body}"));
    assert!(
        types.contains(&json!({ "name": "BlacklistEntry" })),
        "{body}"
    );
}

async fn with_introspection_off_the_schema_is_not_described(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| config.introspection = false).await;

    // Act
    let schema = app.gql(INTROSPECT, json!({}), None).await;
    let one_type = app
        .gql(
            r#"{ __type(name: "BlacklistEntry") { name } }"#,
            json!({}),
            None,
        )
        .await;
    let ordinary = app.gql("{ __typename }", json!({}), None).await;

    // Assert: nothing is described, and the caller is told why rather than handed a bare null.
    assert_eq!(schema["data"]["__schema"], Value::Null, "{schema}");
    assert_eq!(one_type["data"]["__type"], Value::Null, "{one_type}");
    for body in [&schema, &one_type] {
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{body}"
        );
    }
    assert_eq!(ordinary, json!({ "data": { "__typename": "Query" } }));
}

async fn the_playground_is_served_on_get_by_default(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let response = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request reaches the server");

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("a text header")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
}

async fn with_the_playground_off_get_graphql_is_not_found_but_get_queries_still_work(
    backend: Backend,
) {
    // Arrange
    let app = spawn_app_with(backend, |config| config.playground = false).await;

    // Act
    let playground = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request reaches the server");
    let status = playground.status();
    let body: Value = playground.json().await.expect("the body is JSON");
    let query = app
        .client
        .get(app.url("/graphql?query=%7B%20__typename%20%7D"))
        .send()
        .await
        .expect("request reaches the server");

    // Assert
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        body,
        json!({ "errors": [{
            "message": "the playground is switched off",
            "extensions": { "code": "BAD_REQUEST" },
        }] })
    );
    assert_eq!(query.status(), StatusCode::OK);
    assert_eq!(
        query.json::<Value>().await.expect("the body is JSON"),
        json!({ "data": { "__typename": "Query" } })
    );
}

async fn a_login_slower_than_the_request_deadline_answers_timeout(backend: Backend) {
    // Arrange: hashing costly enough that no login verifies within a millisecond.
    let app = spawn_app_with(backend, |config| {
        config.request_timeout_ms = 1;
        config.password_hash_memory_kib = 65536;
        config.password_hash_iterations = 3;
    })
    .await;

    // Act
    let body = app
        .gql(
            "mutation($p: String!) { login(username: \"admin\", password: $p) { token } }",
            json!({ "p": ADMIN_PASSWORD }),
            None,
        )
        .await;

    // Assert
    assert_eq!(
        body,
        json!({
            "data": null,
            "errors": [{
                "message": "the request took too long and was stopped",
                "extensions": { "code": "TIMEOUT" },
            }],
        })
    );
}

crate::on_backends!([sqlite, postgres] [
    more_aliases_than_allowed_is_refused_before_anything_runs,
    exactly_as_many_aliases_as_allowed_run,
    a_batch_of_two_operations_answers_with_two_results_in_order,
    a_batch_of_the_largest_allowed_size_runs_every_operation,
    a_batch_over_the_limit_is_a_bad_request_and_runs_nothing,
    an_empty_batch_is_an_empty_document,
    a_query_deeper_than_query_max_depth_fails_validation_and_one_at_it_runs,
    introspection_is_served_by_default,
    with_introspection_off_the_schema_is_not_described,
    the_playground_is_served_on_get_by_default,
    with_the_playground_off_get_graphql_is_not_found_but_get_queries_still_work,
    a_login_slower_than_the_request_deadline_answers_timeout,
]);
