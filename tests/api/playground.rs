//! The GraphiQL playground: served from the binary with a policy that allows nothing off-host, its
//! files the pinned packages' own builds, its introspection within the limits, and a real browser
//! logging in and listing the blacklist through it with no network but 127.0.0.1.

use std::{path::Path, time::Duration};

use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, error_code, spawn_app, spawn_app_with},
    node,
};

const GRAPHIQL_INTROSPECTION: &str = include_str!("fixtures/graphiql_introspection.graphql");
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The files scripts/vendor-graphiql copies, read from the script itself: (node_modules path,
/// name under api/assets/graphiql).
fn vendored_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("scripts/vendor-graphiql"))
        .expect("read scripts/vendor-graphiql");
    let list = script
        .split_once("files=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(list, _)| list)
        .expect("scripts/vendor-graphiql has a files=\"…\" list");
    list.lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(from, to)| (from.to_owned(), to.to_owned()))
        .collect()
}

#[test]
fn the_vendored_playground_files_are_the_pinned_packages_own() {
    // Arrange
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = node::web_dir().join("node_modules");
    assert!(
        modules.is_dir(),
        "tests/web has no node_modules: run scripts/web (scripts/test does)"
    );
    let vendored = root.join("api/assets/graphiql");
    let files = vendored_files();

    // Act
    let differing: Vec<String> = files
        .iter()
        .filter(|(from, to)| {
            let pinned = std::fs::read(modules.join(from))
                .unwrap_or_else(|error| panic!("read node_modules/{from}: {error}"));
            std::fs::read(vendored.join(to)).ok() != Some(pinned)
        })
        .map(|(_, to)| to.clone())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(&vendored)
        .expect("list api/assets/graphiql")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = files.into_iter().map(|(_, to)| to).collect();
    listed.sort();

    // Assert
    assert!(
        differing.is_empty(),
        "api/assets/graphiql differs from tests/web/node_modules in {differing:?}: run scripts/vendor-graphiql"
    );
    assert_eq!(
        on_disk, listed,
        "api/assets/graphiql holds files the script does not copy"
    );
}

/// The `src` and `href` attributes of the page's scripts and stylesheets.
fn referenced_files(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| html.split(attribute).skip(1))
        .filter_map(|rest| rest.split_once('"').map(|(value, _)| value.to_owned()))
        .collect()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .send()
        .await
        .expect("request reaches the server")
}

async fn the_page_and_its_files_are_served_from_the_binary_under_a_strict_policy(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;

    // Act
    let page = get(&app, "/graphql").await;
    let page_headers = page.headers().clone();
    let html = page.text().await.expect("the page is text");
    let files = referenced_files(&html);
    let mut served = Vec::new();
    for file in &files {
        let response = get(&app, &format!("/{file}")).await;
        let status = response.status();
        let headers = response.headers().clone();
        let length = response.bytes().await.expect("the file's body").len();
        served.push((file.clone(), status, headers, length));
    }
    let unknown = get(&app, "/graphql/playground/graphiql.min.js").await;
    let unknown_status = unknown.status();
    let unknown_body: Value = unknown.json().await.expect("the body is JSON");

    // Assert: the page.
    assert_eq!(
        header(&page_headers, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&page_headers, "content-security-policy"), POLICY);
    assert_eq!(header(&page_headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page_headers, "cache-control"), "no-store");
    assert!(
        !html.contains("://"),
        "the page refers to another host: {html}"
    );
    assert!(
        !html.contains("<script>"),
        "the page has an inline script: {html}"
    );
    assert_eq!(files.len(), 6, "{html}");
    // Assert: its files, each under a content-hashed name, cacheable for good.
    for (file, status, headers, length) in served {
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(file.starts_with("graphql/playground/"), "{file}");
        let expected_type = if file.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(header(&headers, "content-type"), expected_type, "{file}");
        assert_eq!(
            header(&headers, "content-security-policy"),
            POLICY,
            "{file}"
        );
        assert_eq!(
            header(&headers, "x-content-type-options"),
            "nosniff",
            "{file}"
        );
        assert_eq!(
            header(&headers, "cache-control"),
            "public, max-age=31536000, immutable",
            "{file}"
        );
        assert!(length > 0, "{file}");
    }
    assert_eq!(unknown_status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&unknown_body), "NOT_FOUND", "{unknown_body}");
}

async fn with_the_playground_off_its_files_are_not_served_either(backend: Backend) {
    // Arrange: the names come from a server with the playground on (they depend only on the binary).
    let on = spawn_app(backend).await;
    let html = get(&on, "/graphql").await.text().await.expect("the page");
    let files = referenced_files(&html);
    let off = spawn_app_with(backend, |config| config.playground = false).await;

    // Act
    let mut answers = Vec::new();
    for file in &files {
        let response = get(&off, &format!("/{file}")).await;
        let status = response.status();
        answers.push((status, response.json::<Value>().await.expect("JSON")));
    }

    // Assert
    assert_eq!(answers.len(), 6);
    for (status, body) in answers {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(error_code(&body), "BAD_REQUEST", "{body}");
    }
}

/// `{ __schema { types { fields { type { ofType … name } } } } }`, `depth` fields deep (at least 5).
fn introspection(depth: usize) -> String {
    let of_types = depth - 5;
    format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(of_types),
        " }".repeat(of_types),
    )
}

async fn graphiqls_introspection_is_served_while_deep_ordinary_queries_are_refused(
    backend: Backend,
) {
    // Arrange: the default QUERY_MAX_DEPTH (10), and a server allowing only 3.
    let app = spawn_app(backend).await;
    let shallow = spawn_app_with(backend, |config| config.query_max_depth = 3).await;
    let token = app.admin_token().await;
    let eleven_deep = "{ me { a { b { c { d { e { f { g { h { i { j } } } } } } } } } } }";

    // Act
    let graphiql = app.gql(GRAPHIQL_INTROSPECTION, json!({}), None).await;
    let deepest_introspection = app.gql(&introspection(15), json!({}), None).await;
    let deeper_introspection = app.gql(&introspection(16), json!({}), None).await;
    let deep_ordinary = app.gql(eleven_deep, json!({}), Some(&token)).await;
    let graphiql_on_shallow = shallow.gql(GRAPHIQL_INTROSPECTION, json!({}), None).await;

    // Assert: introspection has its own limit, the depth of the standard introspection query.
    for body in [&graphiql, &deepest_introspection, &graphiql_on_shallow] {
        assert_eq!(body["errors"], Value::Null, "{body}");
        assert!(body["data"]["__schema"]["types"].is_array(), "{body}");
    }
    assert_eq!(
        error_code(&deeper_introspection),
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        deeper_introspection["errors"][0]["message"],
        "the introspection nests fields 16 deep; at most 15 are allowed"
    );
    // Assert: everything else still has QUERY_MAX_DEPTH, checked before the fields are looked up
    // (limits.rs checks it on this schema's own fields).
    assert_eq!(error_code(&deep_ordinary), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        deep_ordinary["errors"][0]["message"],
        "the document nests fields 11 deep; at most 10 are allowed"
    );
    assert_eq!(deep_ordinary["data"], Value::Null, "{deep_ordinary}");
}

async fn a_browser_logs_in_and_lists_the_blacklist_through_the_playground_offline(
    backend: Backend,
) {
    // Arrange: a user who may read the blacklist, and one entry in it.
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let password = "playground-reader-password";
    app.create_user("reader", password, &["blacklist:read"], None, None)
        .await;
    let created = app
        .gql(
            r#"mutation { createBlacklistEntry(input: { ip: "198.51.100.23", remark: "from the playground test" }) { id } }"#,
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(created["errors"], Value::Null, "{created}");
    let screenshot = format!("playground-{backend:?}").to_lowercase();

    // Act: tests/web/playground.mjs fails on any problem, with its reasons.
    let output = node::run(
        "playground.mjs",
        &[&app.base, "reader", "198.51.100.23", &screenshot],
        &[("PLAYGROUND_PASSWORD", password)],
        Duration::from_secs(120),
    )
    .await;

    // Assert
    assert!(output.contains("listed 198.51.100.23"), "{output}");
    assert!(
        node::output_dir()
            .join(format!("{screenshot}.png"))
            .is_file(),
        "no screenshot"
    );
}

crate::on_backends!([sqlite, postgres][
    the_page_and_its_files_are_served_from_the_binary_under_a_strict_policy,
    with_the_playground_off_its_files_are_not_served_either,
    graphiqls_introspection_is_served_while_deep_ordinary_queries_are_refused,
    a_browser_logs_in_and_lists_the_blacklist_through_the_playground_offline,
]);
