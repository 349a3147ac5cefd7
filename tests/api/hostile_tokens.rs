//! Hostile tokens: altered, re-headed and re-signed JWTs, odd headers and oversized values. None
//! may pass for a live token, and none may write anything.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{StatusCode, header::HeaderValue};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, JWT_SECRET, TestApp, error_code, spawn_app, token_claims},
    hostile_http::{assert_unharmed, send_raw},
};

const ME: &str = "{ me { username } }";
const CREATE: &str = r#"mutation { createBlacklistEntry(input: { ip: "192.0.2.77" }) { id } }"#;
const ATTACKER_SECRET: &str = "attacker-secret-that-is-long-enough-for-hs256";

/// An HS256 signature of `message` with `secret`, as the third part of a JWT.
fn hs256(message: &str, secret: &str) -> String {
    jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("sign")
}

/// A JWT with exactly this header and payload, HS256-signed with `secret` or unsigned.
fn forge(header: &Value, claims: &Value, secret: Option<&str>) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = secret
        .map(|secret| hs256(&signed, secret))
        .unwrap_or_default();
    format!("{signed}.{signature}")
}

fn sign_with(algorithm: Algorithm, claims: &Value) -> String {
    encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

/// `part` with its middle character replaced by another base64url character.
fn flip(part: &str) -> String {
    let middle = part.len() / 2;
    let replacement = if &part[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    format!("{}{replacement}{}", &part[..middle], &part[middle + 1..])
}

fn parts(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().expect("three parts")
}

/// Sends `query` with one header set to `value` (bytes, so that non-ASCII can be sent).
async fn call(app: &TestApp, query: &str, name: &str, value: &[u8]) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(
            name,
            HeaderValue::from_bytes(value).expect("a header value"),
        )
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request reaches the server");
    let status = response.status();
    (status, response.json().await.expect("the body is JSON"))
}

/// Checks that `me` and a guarded mutation both refuse the credential, and nothing was written.
async fn assert_refused(app: &TestApp, live: &str, case: &str, name: &str, value: &[u8]) {
    for query in [ME, CREATE] {
        let (status, body) = call(app, query, name, value).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{case}: {body}");
        assert!(body["data"].is_null(), "{case}: {body}");
    }
    assert_unharmed(app, live, 0).await;
}

async fn every_tampered_token_is_unauthenticated_and_writes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let other = app
        .token_with_permissions("mallory", &["blacklist:*"])
        .await;
    let [h, p, s] = parts(&live);
    let [other_h, other_p, other_s] = parts(&other);
    let claims = token_claims(&live);
    let with = |key: &str, value: Value| {
        let mut changed = claims.clone();
        changed[key] = value;
        changed
    };
    let without = |key: &str| {
        let mut changed = claims.clone();
        changed.as_object_mut().expect("an object").remove(key);
        changed
    };
    let hs = json!({ "alg": "HS256", "typ": "JWT" });
    let real = Some(JWT_SECRET);
    let tokens: Vec<(&str, String)> = vec![
        ("a flipped header character", format!("{}.{p}.{s}", flip(h))),
        (
            "a flipped payload character",
            format!("{h}.{}.{s}", flip(p)),
        ),
        (
            "a flipped signature character",
            format!("{h}.{p}.{}", flip(s)),
        ),
        ("another live token's payload", format!("{h}.{other_p}.{s}")),
        (
            "another live token's signature",
            format!("{other_h}.{p}.{other_s}"),
        ),
        (
            "HS512 with the server's secret",
            sign_with(Algorithm::HS512, &claims),
        ),
        (
            "HS384 with the server's secret",
            sign_with(Algorithm::HS384, &claims),
        ),
        (
            "RS256 header, HMAC signature",
            forge(&json!({ "alg": "RS256" }), &claims, real),
        ),
        (
            "ES256 header, HMAC signature",
            forge(&json!({ "alg": "ES256" }), &claims, real),
        ),
        (
            "EdDSA header, HMAC signature",
            forge(&json!({ "alg": "EdDSA" }), &claims, real),
        ),
        (
            "alg none, no signature",
            forge(&json!({ "alg": "none" }), &claims, None),
        ),
        (
            "alg None, no signature",
            forge(&json!({ "alg": "None" }), &claims, None),
        ),
        (
            "alg nOnE, no signature",
            forge(&json!({ "alg": "nOnE" }), &claims, None),
        ),
        (
            "alg NONE, no signature",
            forge(&json!({ "alg": "NONE" }), &claims, None),
        ),
        (
            "alg none, HMAC signature",
            forge(&json!({ "alg": "none" }), &claims, real),
        ),
        (
            "alg nOnE, HMAC signature",
            forge(&json!({ "alg": "nOnE" }), &claims, real),
        ),
        (
            "alg hs256 in lower case",
            forge(&json!({ "alg": "hs256" }), &claims, real),
        ),
        ("no alg", forge(&json!({ "typ": "JWT" }), &claims, real)),
        ("alg null", forge(&json!({ "alg": null }), &claims, real)),
        (
            "alg as a list",
            forge(&json!({ "alg": ["HS256"] }), &claims, real),
        ),
        (
            "a header that is not an object",
            forge(&json!("HS256"), &claims, real),
        ),
        (
            "a jku to another key set",
            forge(
                &json!({ "alg": "HS256", "jku": "https://evil.example/jwks.json" }),
                &claims,
                Some(ATTACKER_SECRET),
            ),
        ),
        (
            "an embedded jwk",
            forge(
                &json!({ "alg": "HS256", "jwk": { "kty": "oct", "k": URL_SAFE_NO_PAD.encode(ATTACKER_SECRET) } }),
                &claims,
                Some(ATTACKER_SECRET),
            ),
        ),
        (
            "a kid of /dev/null and an empty key",
            forge(
                &json!({ "alg": "HS256", "kid": "../../../../dev/null" }),
                &claims,
                Some(""),
            ),
        ),
        (
            "a kid with SQL in it",
            forge(
                &json!({ "alg": "HS256", "kid": "x' UNION SELECT 'k" }),
                &claims,
                Some("k"),
            ),
        ),
        ("no jti", forge(&hs, &without("jti"), real)),
        (
            "a jti that is not a UUID",
            forge(&hs, &with("jti", json!("' OR '1'='1")), real),
        ),
        (
            "a jti of another live token",
            forge(&hs, &with("jti", token_claims(&other)["jti"].clone()), real),
        ),
        ("no sub", forge(&hs, &without("sub"), real)),
        (
            "the sub of another user",
            forge(&hs, &with("sub", token_claims(&other)["sub"].clone()), real),
        ),
        ("no exp", forge(&hs, &without("exp"), real)),
        (
            "exp as a string",
            forge(
                &hs,
                &with("exp", json!((Utc::now().timestamp() + 600).to_string())),
                real,
            ),
        ),
        (
            "exp as a fraction",
            forge(
                &hs,
                &with("exp", json!(Utc::now().timestamp() as f64 + 600.5)),
                real,
            ),
        ),
        (
            "exp beyond 64 bits",
            forge(&hs, &with("exp", json!(1e20)), real),
        ),
        ("exp negative", forge(&hs, &with("exp", json!(-1)), real)),
        (
            "an unknown kind",
            forge(&hs, &with("kind", json!("ROOT")), real),
        ),
        (
            "a payload that is a list",
            forge(&hs, &json!([claims]), real),
        ),
        (
            "a payload that is not JSON",
            format!(
                "{h}.{}.{}",
                URL_SAFE_NO_PAD.encode("{not json"),
                hs256(
                    &format!("{h}.{}", URL_SAFE_NO_PAD.encode("{not json")),
                    JWT_SECRET
                )
            ),
        ),
        (
            "a 100 KB signature",
            format!("{h}.{p}.{}", "A".repeat(100_000)),
        ),
        ("100 KB of garbage", "a".repeat(100_000)),
        ("a fourth part", format!("{live}.{s}")),
        ("two parts", format!("{h}.{p}")),
        ("padding", format!("{live}==")),
        (
            "standard base64 padding in the payload",
            format!("{h}.{p}=.{s}"),
        ),
        ("a space inside", format!("{h}.{p} .{s}")),
        ("a tab inside", format!("{h}.\t{p}.{s}")),
        ("trailing words", format!("{live} extra")),
        (
            "two tokens joined by a comma",
            format!("{live}, Bearer {live}"),
        ),
        ("a percent-encoded newline", format!("{h}.{p}%0A.{s}")),
        ("Bearer twice", format!("Bearer {live}")),
    ];

    for (case, token) in &tokens {
        // Act + Assert
        let value = format!("Bearer {token}");
        assert_refused(&app, &live, case, "authorization", value.as_bytes()).await;
        assert_refused(&app, &live, case, "x-auth-token", token.as_bytes()).await;
    }
    let schemes: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "no space after Bearer",
            "authorization",
            format!("Bearer{live}").into(),
        ),
        (
            "another scheme",
            "authorization",
            format!("Token {live}").into(),
        ),
        (
            "a colon after the scheme",
            "authorization",
            format!("Bearer: {live}").into(),
        ),
        ("only the scheme", "authorization", b"Bearer".to_vec()),
        (
            "Bearer in X-AUTH-TOKEN",
            "x-auth-token",
            format!("Bearer {live}").into(),
        ),
        (
            "non-ASCII after the token",
            "authorization",
            [format!("Bearer {live}").as_bytes(), b"\xff"].concat(),
        ),
        (
            "non-ASCII in X-AUTH-TOKEN",
            "x-auth-token",
            [live.as_bytes(), b"\xe9"].concat(),
        ),
    ];
    for (case, name, value) in &schemes {
        assert_refused(&app, &live, case, name, value).await;
    }
}

async fn a_correctly_signed_token_is_judged_by_its_live_jti_alone(backend: Backend) {
    // Arrange: only the secret's holder could make these; the header's key hints and extra claims
    // must neither pick another key nor add rights.
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let nobody = app.token_with_permissions("nobody", &[]).await;
    let kid = json!({ "alg": "HS256", "typ": "JWT", "kid": "../../etc/passwd" });
    let with_kid = forge(&kid, &token_claims(&live), Some(JWT_SECRET));
    let mut bragging = token_claims(&nobody);
    bragging["permissions"] = json!(["blacklist:*", "*"]);
    bragging["username"] = json!("admin");
    bragging["roles"] = json!(["admin"]);
    let bragging = forge(&kid, &bragging, Some(JWT_SECRET));

    // Act
    let me = app.gql(ME, json!({}), Some(&with_kid)).await;
    let bragging_me = app.gql(ME, json!({}), Some(&bragging)).await;
    let bragging_create = app.gql(CREATE, json!({}), Some(&bragging)).await;
    let logout = app
        .gql("mutation { logout }", json!({}), Some(&with_kid))
        .await;

    // Assert
    assert_eq!(me, json!({ "data": { "me": { "username": "admin" } } }));
    assert_eq!(
        bragging_me,
        json!({ "data": { "me": { "username": "nobody" } } })
    );
    assert_eq!(
        error_code(&bragging_create),
        "FORBIDDEN",
        "{bragging_create}"
    );
    assert_eq!(logout, json!({ "data": { "logout": true } }));
    for token in [&with_kid, &live] {
        let after = app.gql(ME, json!({}), Some(token)).await;
        assert_eq!(error_code(&after), "UNAUTHENTICATED", "{after}");
    }
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
    let fresh = app.admin_token().await;
    assert_unharmed(&app, &fresh, 0).await;
}

async fn a_token_not_yet_valid_is_refused(backend: Backend) {
    // Arrange: the live token's own claims and the server's secret; only nbf is new.
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let cases = [
        ("nbf in an hour", json!(Utc::now().timestamp() + 3600)),
        ("nbf that is not a number", json!("soon")),
    ];

    for (case, nbf) in cases {
        let mut claims = token_claims(&live);
        claims["nbf"] = nbf;
        let value = format!("Bearer {}", forge(&header, &claims, Some(JWT_SECRET)));

        // Act + Assert
        assert_refused(&app, &live, case, "authorization", value.as_bytes()).await;
    }
}

async fn two_tokens_in_one_request_are_refused(backend: Backend) {
    // Arrange: which of two credentials a proxy checked and which the server used must never differ.
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let bearer = format!("Bearer {live}");
    let cases = [
        (
            "live, then garbage",
            "authorization",
            bearer.clone(),
            "Bearer not-a-jwt".to_owned(),
        ),
        (
            "garbage, then live",
            "authorization",
            "Bearer not-a-jwt".to_owned(),
            bearer.clone(),
        ),
        (
            "two X-AUTH-TOKEN, live first",
            "x-auth-token",
            live.clone(),
            "not-a-jwt".to_owned(),
        ),
        (
            "two X-AUTH-TOKEN, garbage first",
            "x-auth-token",
            "not-a-jwt".to_owned(),
            live.clone(),
        ),
    ];

    for (case, name, first, second) in cases {
        for query in [ME, CREATE] {
            // Act
            let response = app
                .client
                .post(app.url("/graphql"))
                .header(name, first.as_str())
                .header(name, second.as_str())
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("request reaches the server");

            // Assert
            assert_eq!(response.status(), StatusCode::OK, "{case}");
            let body: Value = response.json().await.expect("json");
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{case}: {body}");
        }
        assert_unharmed(&app, &live, 0).await;
    }
}

async fn a_token_folded_across_lines_is_refused_by_http(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let live = app.admin_token().await;
    let [h, p, s] = parts(&live);
    let body = json!({ "query": CREATE }).to_string();
    let headers = [
        format!("Authorization: Bearer {h}.{p}\r\n .{s}"),
        format!("Authorization: Bearer {h}.{p}\n.{s}"),
        format!("Authorization: Bearer {h}.{p}\r.{s}"),
    ];

    for header in headers {
        let request = format!(
            "POST /graphql HTTP/1.1\r\nHost: test\r\n{header}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );

        // Act
        let reply = send_raw(&app, request.as_bytes()).await;

        // Assert
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{header:?}: {}",
            reply.text
        );
        assert_unharmed(&app, &live, 0).await;
    }
}

crate::on_backends!([sqlite, postgres] [
    every_tampered_token_is_unauthenticated_and_writes_nothing,
    a_correctly_signed_token_is_judged_by_its_live_jti_alone,
    a_token_not_yet_valid_is_refused,
    two_tokens_in_one_request_are_refused,
    a_token_folded_across_lines_is_refused_by_http,
]);
