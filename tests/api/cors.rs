//! CORS (CORS_ALLOWED_ORIGINS): preflights and headers seen by a plain HTTP client, refusals a
//! browser page can read, and a real Chromium page on another origin calling the API.

use std::time::Duration;

use api::{
    app::App,
    config::{AllowedOrigin, Config},
};
use reqwest::{
    Method, Response, StatusCode,
    header::{
        ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS,
        ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
        ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, CONTENT_TYPE, ORIGIN, VARY,
    },
};
use serde_json::{Value, json};

use crate::{
    helpers::{ADMIN_PASSWORD, Backend, TestApp, error_code, spawn_app, spawn_app_with},
    node,
};

const ALLOWED: &str = "https://app.example.com";
const OTHER: &str = "https://evil.example.net";

fn allowing(origins: &[&str]) -> impl FnOnce(&mut Config) {
    let origins: Vec<AllowedOrigin> = origins
        .iter()
        .map(|origin| match *origin {
            "*" => AllowedOrigin::Any,
            exact => AllowedOrigin::Exact(exact.to_owned()),
        })
        .collect();
    move |config| config.cors_allowed_origins = origins
}

/// A browser's preflight for a POST to /graphql carrying a token and a JSON body.
async fn preflight(app: &TestApp, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url("/graphql"))
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type,x-auth-token",
        )
        .send()
        .await
        .expect("request reaches the server")
}

fn header(response: &Response, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// The header's comma-separated values, lower case.
fn listed(response: &Response, name: impl reqwest::header::AsHeaderName) -> Vec<String> {
    header(response, name)
        .unwrap_or_default()
        .split(',')
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
        .collect()
}

fn varies_by_origin(response: &Response) -> bool {
    response
        .headers()
        .get_all(VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("origin"))
}

async fn a_preflight_from_an_allowed_origin_is_answered(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, allowing(&[ALLOWED, "http://127.0.0.1:5173"])).await;

    // Act
    let response = preflight(&app, ALLOWED).await;

    // Assert
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        header(&response, ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(ALLOWED)
    );
    let methods = listed(&response, ACCESS_CONTROL_ALLOW_METHODS);
    assert!(methods.contains(&"post".to_owned()), "{methods:?}");
    assert!(methods.contains(&"get".to_owned()), "{methods:?}");
    let headers = listed(&response, ACCESS_CONTROL_ALLOW_HEADERS);
    for name in ["authorization", "x-auth-token", "content-type"] {
        assert!(headers.contains(&name.to_owned()), "{name} in {headers:?}");
    }
    assert_eq!(header(&response, ACCESS_CONTROL_MAX_AGE), Some("600"));
    assert!(varies_by_origin(&response));
    assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
}

async fn a_preflight_from_another_origin_gets_no_allow_origin(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, allowing(&[ALLOWED])).await;

    // Act
    let response = preflight(&app, OTHER).await;

    // Assert
    assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), None);
    assert!(varies_by_origin(&response));
}

async fn an_answer_names_only_an_allowed_origin(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, allowing(&[ALLOWED])).await;
    let query = |origin: &str| {
        app.client
            .post(app.url("/graphql"))
            .header(ORIGIN, origin)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    };

    // Act
    let allowed = query(ALLOWED).await.expect("request reaches the server");
    let other = query(OTHER).await.expect("request reaches the server");

    // Assert: the server answers both (CORS is the browser's to enforce); only one may read it.
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(header(&allowed, ACCESS_CONTROL_ALLOW_ORIGIN), Some(ALLOWED));
    assert!(varies_by_origin(&allowed));
    assert_eq!(header(&other, ACCESS_CONTROL_ALLOW_ORIGIN), None);
}

async fn without_allowed_origins_no_response_carries_cors_headers(backend: Backend) {
    // Arrange: the default, same-origin only.
    let app = spawn_app(backend).await;

    // Act
    let preflight = preflight(&app, ALLOWED).await;
    let answer = app
        .client
        .post(app.url("/graphql"))
        .header(ORIGIN, ALLOWED)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("request reaches the server");

    // Assert
    for response in [&preflight, &answer] {
        assert_eq!(header(response, ACCESS_CONTROL_ALLOW_ORIGIN), None);
        assert_eq!(header(response, ACCESS_CONTROL_ALLOW_METHODS), None);
    }
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn refusals_before_graphql_carry_cors_headers_so_a_page_can_read_them(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| {
        allowing(&[ALLOWED])(config);
        config.request_body_limit_bytes = 1024;
    })
    .await;
    let post = |content_type: &str, body: String| {
        app.client
            .post(app.url("/graphql"))
            .header(ORIGIN, ALLOWED)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let too_large = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(2048)) });

    // Act
    let cases = [
        (
            post("text/plain", r#"{"query":"{ __typename }"}"#.to_owned()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            post("application/json", too_large.to_string()),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            post("application/json", "{ not json".to_owned()),
            StatusCode::BAD_REQUEST,
        ),
    ];

    // Assert
    for (request, status) in cases {
        let response = request.await.expect("request reaches the server");
        assert_eq!(response.status(), status);
        assert_eq!(
            header(&response, ACCESS_CONTROL_ALLOW_ORIGIN),
            Some(ALLOWED)
        );
        let body: Value = response.json().await.expect("the body is JSON");
        assert_eq!(error_code(&body), "BAD_REQUEST", "{status}");
    }
}

async fn a_wildcard_allows_every_origin_without_credentials(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, allowing(&["*"])).await;

    // Act
    let response = preflight(&app, OTHER).await;

    // Assert
    assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
}

#[tokio::test]
async fn a_wildcard_beside_named_origins_stops_the_start() {
    // Arrange
    let mut config = Config::default();
    allowing(&["*", ALLOWED])(&mut config);

    // Act: refused while checking the configuration, before any storage is touched.
    let built = App::build(&config).await;

    // Assert
    let error = built
        .err()
        .expect("the configuration is refused")
        .to_string();
    assert!(error.contains("CORS_ALLOWED_ORIGINS"), "{error}");
}

/// Two free ports on 127.0.0.1 for the pages' origins, found by binding and releasing them: the
/// server must know the allowed origin before it starts, and the pages need the server's address.
fn two_free_ports() -> [u16; 2] {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let (first, second) = (bind(), bind());
    [first, second].map(|listener| listener.local_addr().expect("an address").port())
}

async fn a_browser_page_on_an_allowed_origin_calls_the_api_and_another_is_blocked(
    backend: Backend,
) {
    // Arrange
    let [allowed_port, other_port] = two_free_ports();
    let allowed_origin = format!("http://127.0.0.1:{allowed_port}");
    let app = spawn_app_with(backend, allowing(&[&allowed_origin])).await;
    let endpoint = app.url("/graphql");

    // Act
    let output = node::run(
        "cors.mjs",
        &[
            &endpoint,
            &allowed_port.to_string(),
            &other_port.to_string(),
        ],
        &[("ADMIN_PASSWORD", ADMIN_PASSWORD)],
        Duration::from_secs(90),
    )
    .await;

    // Assert: what each page's own script saw.
    let seen: Value = output
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("cors.mjs printed no results:\n{output}"));
    let allowed = &seen[allowed_port.to_string()];
    assert_eq!(allowed["error"], Value::Null, "{seen}");
    assert_eq!(allowed["loggedIn"], true, "{seen}");
    assert_eq!(allowed["meByBearer"], "admin", "{seen}");
    assert_eq!(allowed["meByXAuthToken"], "admin", "{seen}");
    assert!(
        allowed["loginRequestId"].is_string(),
        "x-request-id is exposed to the page: {seen}"
    );
    let other = &seen[other_port.to_string()];
    assert_eq!(other["loggedIn"], Value::Null, "{seen}");
    assert!(
        other["error"]
            .as_str()
            .is_some_and(|error| error.contains("Failed to fetch")),
        "the other origin's fetch is blocked: {seen}"
    );
}

crate::on_backends!([sqlite, postgres] [
    a_preflight_from_an_allowed_origin_is_answered,
    a_preflight_from_another_origin_gets_no_allow_origin,
    an_answer_names_only_an_allowed_origin,
    without_allowed_origins_no_response_carries_cors_headers,
    refusals_before_graphql_carry_cors_headers_so_a_page_can_read_them,
    a_wildcard_allows_every_origin_without_credentials,
    a_browser_page_on_an_allowed_origin_calls_the_api_and_another_is_blocked,
]);
