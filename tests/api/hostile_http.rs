//! Hostile HTTP: bodies that are not GraphQL requests, odd content types and oversized bodies,
//! and the helpers the other hostile_* modules share. Each case gets an exact status and code,
//! writes nothing, and leaves the server answering.

use reqwest::{StatusCode, header::CONTENT_TYPE};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{Backend, TestApp, error_code, spawn_app, spawn_app_with};

/// A mutation that would leave a row behind if a hostile request ever reached execution.
const CREATE: &str = r#"mutation { createBlacklistEntry(input: { ip: "192.0.2.66" }) { id ip } }"#;

/// An answer as it came over the wire.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }
}

/// POSTs `body` to /graphql with the given headers and no content type of reqwest's choosing.
pub async fn post(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Reply {
    let mut request = app.client.post(app.url("/graphql")).body(body);
    for (name, value) in headers {
        // `header` appends, so a name given twice is sent twice.
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request reaches the server");
    Reply {
        status: response.status(),
        content_type: response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        text: response.text().await.expect("a text body"),
    }
}

/// Writes `request` on a fresh connection and reads the answer until the server closes it, for
/// what reqwest will not send (a chunked body, a folded header).
pub async fn send_raw(app: &TestApp, request: &[u8]) -> Reply {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read the answer");
    let raw = String::from_utf8(raw).expect("a UTF-8 answer");
    let (head, text) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    Reply {
        status,
        content_type,
        text: text.to_owned(),
    }
}

/// Checks a refusal made before GraphQL: `status`, and GraphQL's `errors` shape coded BAD_REQUEST.
pub fn assert_bad_request(reply: &Reply, status: StatusCode, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.text);
    assert!(
        reply.content_type.starts_with("application/json"),
        "{case}: {} {}",
        reply.content_type,
        reply.text
    );
    let body = reply.json();
    assert_eq!(error_code(&body), "BAD_REQUEST", "{case}: {body}");
    assert_eq!(
        body["errors"].as_array().map(Vec::len),
        Some(1),
        "{case}: {body}"
    );
    assert!(body.get("data").is_none(), "{case}: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{case}: {body}");
}

/// Checks a refusal found before execution: one error coded `code`, without a path, and no data.
pub fn assert_refused_before_execution(body: &Value, code: &str, case: &str) {
    assert_eq!(error_code(body), code, "{case}: {body}");
    assert!(body["data"].is_null(), "{case}: {body}");
    assert!(body["errors"][0].get("path").is_none(), "{case}: {body}");
}

/// Proves a hostile request left no trace: the table holds `rows` entries and a valid query
/// with the admin's `token` is still answered.
pub async fn assert_unharmed(app: &TestApp, token: &str, rows: i64) {
    assert_eq!(app.count_rows("blacklist_entry").await, rows);
    let me = app.gql("{ me { username } }", json!({}), Some(token)).await;
    assert_eq!(me, json!({ "data": { "me": { "username": "admin" } } }));
}

fn request_json(query: &str) -> String {
    json!({ "query": query }).to_string()
}

/// A multipart body of the GraphQL multipart request spec, with the given parts.
fn multipart(parts: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, content) in parts {
        body.push_str(&format!(
            "--XBOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{content}\r\n"
        ));
    }
    body + "--XBOUNDARY--\r\n"
}

async fn bodies_that_are_not_graphql_requests_are_bad_requests(backend: Backend) {
    // Arrange: every body carries the admin's token and, where it can, the CREATE mutation.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let bearer = format!("Bearer {token}");
    let create = request_json(CREATE);
    let json_type = Some("application/json");
    let deep_variables = format!(
        r#"{{"query": "{{ me {{ username }} }}", "variables": {{ "x": {}1{} }} }}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let mut invalid_utf8 =
        br#"{"query": "mutation { createBlacklistEntry(input: { ip: \"192.0.2.66\", remark: \""#
            .to_vec();
    invalid_utf8.extend_from_slice(b"\xff\xfe\xc3\x28");
    invalid_utf8.extend_from_slice(br#"\" }) { id } }"}"#);
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        (
            "truncated JSON",
            json_type,
            create[..create.len() - 3].into(),
        ),
        ("an empty body", json_type, Vec::new()),
        ("an empty body and no content type", None, Vec::new()),
        ("whitespace only", json_type, b" \r\n\t ".to_vec()),
        ("JSON null", json_type, b"null".to_vec()),
        (
            "a JSON string",
            json_type,
            br#""{ me { username } }""#.to_vec(),
        ),
        (
            "an array of garbage",
            json_type,
            br#"[1, "x", null, true, {"query": 5}, [[]]]"#.to_vec(),
        ),
        (
            "a number for the query",
            json_type,
            br#"{"query": 5}"#.to_vec(),
        ),
        (
            "null for the query",
            json_type,
            br#"{"query": null}"#.to_vec(),
        ),
        (
            "a list for the query",
            json_type,
            format!(
                "{{\"query\": [{}]}}",
                serde_json::to_string(CREATE).expect("a string")
            )
            .into(),
        ),
        (
            "a string for the variables",
            json_type,
            format!(r#"{{"query": {}, "variables": "{{}}"}}"#, json!(CREATE)).into(),
        ),
        (
            "a list for the variables",
            json_type,
            format!(r#"{{"query": {}, "variables": [1]}}"#, json!(CREATE)).into(),
        ),
        (
            "a number for the operation name",
            json_type,
            format!(r#"{{"query": {}, "operationName": 5}}"#, json!(CREATE)).into(),
        ),
        (
            "the query key twice",
            json_type,
            format!(
                r#"{{"query": {}, "query": "{{ me {{ username }} }}"}}"#,
                json!(CREATE)
            )
            .into(),
        ),
        (
            "two requests back to back",
            json_type,
            format!("{create}{create}").into(),
        ),
        ("trailing garbage", json_type, format!("{create} x").into()),
        (
            "a byte-order mark",
            json_type,
            format!("\u{feff}{create}").into(),
        ),
        ("single quotes", json_type, create.replace('"', "'").into()),
        ("a comment", json_type, format!("/* hi */{create}").into()),
        ("invalid UTF-8 inside a string", json_type, invalid_utf8),
        (
            "invalid UTF-8 only",
            json_type,
            b"\xff\xfe\xfd\x80\x00".to_vec(),
        ),
        (
            "a lone surrogate escape",
            json_type,
            format!(
                r#"{{"query": {}, "variables": {{"x": "\ud800"}}}}"#,
                json!(CREATE)
            )
            .into(),
        ),
        (
            "JSON nested deeper than 128",
            json_type,
            deep_variables.into(),
        ),
        (
            "XML",
            Some("application/xml"),
            format!("<request><query>{CREATE}</query></request>").into(),
        ),
        (
            "a form",
            Some("application/x-www-form-urlencoded"),
            format!("query={}", CREATE.replace(' ', "+")).into(),
        ),
        (
            "a bare GraphQL document",
            Some("application/graphql"),
            CREATE.into(),
        ),
        (
            "an unparsable content type",
            Some("application/json;;;="),
            create.clone().into(),
        ),
        (
            "multipart garbage",
            Some("multipart/form-data; boundary=XBOUNDARY"),
            b"--XBOUNDARY\r\n\x00\xff garbage with no headers and no end".to_vec(),
        ),
        (
            "multipart without a boundary",
            Some("multipart/form-data"),
            multipart(&[("operations", &create)]).into(),
        ),
        (
            "multipart without operations",
            Some("multipart/form-data; boundary=XBOUNDARY"),
            multipart(&[("map", "{}")]).into(),
        ),
        (
            "multipart without a map",
            Some("multipart/form-data; boundary=XBOUNDARY"),
            multipart(&[("operations", &create)]).into(),
        ),
        (
            "multipart with a map naming a missing file",
            Some("multipart/form-data; boundary=XBOUNDARY"),
            multipart(&[
                ("operations", &create),
                ("map", r#"{"0": ["variables.file"]}"#),
            ])
            .into(),
        ),
    ];

    for (case, content_type, body) in cases {
        // Act
        let mut headers = vec![("authorization", bearer.as_str())];
        if let Some(content_type) = content_type {
            headers.push(("content-type", content_type));
        }
        let reply = post(&app, &headers, body).await;

        // Assert: only JSON bodies are read at all; anything else is refused by its type.
        let is_json = content_type.is_some_and(|t| t.split(';').next() == Some("application/json"));
        let expected = if is_json {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        };
        assert_bad_request(&reply, expected, case);
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn a_body_of_any_other_content_type_is_refused_unread(backend: Backend) {
    // Arrange: well-formed JSON under types a browser may send cross-site without a preflight
    // (text/plain, forms), or that are simply not JSON: none of it may run.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let bearer = format!("Bearer {token}");
    let cases = [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/xml",
        "application/octet-stream",
        "application/graphql-response+json",
        "application/x-www-form-urlencoded",
        "image/png",
        "",
    ];

    for content_type in cases {
        let query = r#"mutation { createBlacklistEntry(input: { ip: "192.0.2.1" }) { ip } }"#;
        let mut headers = vec![("authorization", bearer.as_str())];
        if !content_type.is_empty() {
            headers.push(("content-type", content_type));
        }

        // Act
        let reply = post(&app, &headers, request_json(query)).await;

        // Assert
        assert_bad_request(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, content_type);
        assert_unharmed(&app, &token, 0).await;
    }
}

async fn a_multipart_request_is_refused_unread(backend: Backend) {
    // Arrange: the GraphQL multipart request spec (file uploads), which this API does not take.
    let app = spawn_app(backend).await;
    let token = app.admin_token().await;
    let bearer = format!("Bearer {token}");
    let body = multipart(&[("operations", &request_json(CREATE)), ("map", "{}")]);

    // Act
    let reply = post(
        &app,
        &[
            ("authorization", &bearer),
            ("content-type", "multipart/form-data; boundary=XBOUNDARY"),
        ],
        body,
    )
    .await;

    // Assert
    assert_bad_request(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "multipart");
    assert_unharmed(&app, &token, 0).await;
}

async fn a_declared_body_over_the_limit_is_refused_413_with_a_graphql_error(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |c| c.request_body_limit_bytes = 4096).await;
    let token = app.admin_token().await;
    let remark = "x".repeat(5000);
    let body = json!({ "query": CREATE, "variables": { "padding": remark } }).to_string();

    // Act
    let reply = post(
        &app,
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await;

    // Assert
    assert_bad_request(&reply, StatusCode::PAYLOAD_TOO_LARGE, "declared length");
    assert_unharmed(&app, &token, 0).await;
}

async fn a_chunked_body_over_the_limit_is_refused_413_with_a_graphql_error(backend: Backend) {
    // Arrange: no Content-Length, so the limit can only bite while the body streams in.
    let app = spawn_app_with(backend, |c| c.request_body_limit_bytes = 4096).await;
    let token = app.admin_token().await;
    let body = json!({ "query": CREATE, "variables": { "padding": "x".repeat(5000) } }).to_string();
    let (first, second) = body.split_at(2500);
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );

    // Act
    let reply = send_raw(&app, request.as_bytes()).await;

    // Assert
    assert_bad_request(&reply, StatusCode::PAYLOAD_TOO_LARGE, "chunked");
    assert_unharmed(&app, &token, 0).await;
}

crate::on_backends!([sqlite, postgres] [
    bodies_that_are_not_graphql_requests_are_bad_requests,
    a_body_of_any_other_content_type_is_refused_unread,
    a_multipart_request_is_refused_unread,
    a_declared_body_over_the_limit_is_refused_413_with_a_graphql_error,
    a_chunked_body_over_the_limit_is_refused_413_with_a_graphql_error,
]);
