//! Behind trusted proxies, junk in X-Forwarded-For never makes a proxy's address the client's: a
//! listed client is still refused, and a chain that cannot be read up to the client is a 400
//! (logged). Shapes sent straight from a "proxy" on loopback, then through a real nginx.

use std::{net::IpAddr, time::Duration};

use reqwest::{StatusCode, header::HeaderValue};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, behind_loopback_proxy, error_code, spawn_app_with},
    nginx::Nginx,
    private_services::ApiProcess,
};

const CREATE: &str =
    "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id ip } }";
const TYPENAME: &str = "{ __typename }";
/// A documentation address (RFC 5737) standing in for a hostile client behind the proxy.
const LISTED: &str = "203.0.113.5";

/// What must become of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The listed client was found: FORBIDDEN / IP_BLACKLISTED.
    Refused,
    /// The chain cannot be read up to the client: HTTP 400, BAD_REQUEST / FORWARDED_FOR_UNREADABLE.
    Unreadable,
    /// An unlisted client: answered.
    Served,
}

/// X-Forwarded-For as sent by the loopback "proxy" (one item per header line), and the outcome.
/// The peer, 127.0.0.1, is the trusted proxy; only 203.0.113.5 is listed.
const SHAPES: [(&str, &[&[u8]], Outcome); 22] = [
    (
        "junk hop first",
        &[b"not-an-ip, 203.0.113.5"],
        Outcome::Refused,
    ),
    (
        "non-ASCII on the client's line",
        &[b"\xff\xfe, 203.0.113.5"],
        Outcome::Refused,
    ),
    (
        "UTF-8 on the client's line",
        &[b"\xc3\xa9, 203.0.113.5"],
        Outcome::Refused,
    ),
    (
        "junk on a first line",
        &[b"junk", b"203.0.113.5"],
        Outcome::Refused,
    ),
    (
        "non-ASCII on a first line",
        &[b"\x80\x81", b"203.0.113.5"],
        Outcome::Refused,
    ),
    ("empty hops left", &[b", , 203.0.113.5"], Outcome::Refused),
    ("a port", &[b"203.0.113.5:4711"], Outcome::Refused),
    (
        "mapped in brackets with a port",
        &[b"[::ffff:203.0.113.5]:443"],
        Outcome::Refused,
    ),
    ("mapped", &[b"::ffff:203.0.113.5"], Outcome::Refused),
    (
        "then a trusted hop",
        &[b"203.0.113.5, 127.0.0.1"],
        Outcome::Refused,
    ),
    (
        "junk, the client, a trusted hop on a line of its own",
        &[b"\x80junk, 203.0.113.5", b"127.0.0.1"],
        Outcome::Refused,
    ),
    (
        "junk hop last",
        &[b"203.0.113.5, not-an-ip"],
        Outcome::Unreadable,
    ),
    (
        "non-ASCII hop last",
        &[b"203.0.113.5, \xff"],
        Outcome::Unreadable,
    ),
    (
        "junk on a second line",
        &[b"203.0.113.5", b"junk"],
        Outcome::Unreadable,
    ),
    (
        "non-ASCII second line",
        &[b"203.0.113.5", b"\xfe"],
        Outcome::Unreadable,
    ),
    ("empty hop last", &[b"203.0.113.5,"], Outcome::Unreadable),
    ("an empty header", &[b""], Outcome::Unreadable),
    (
        "junk between the client and a trusted hop",
        &[b"203.0.113.5, junk, 127.0.0.1"],
        Outcome::Unreadable,
    ),
    ("unknown", &[b"203.0.113.5, unknown"], Outcome::Unreadable),
    ("bad brackets", &[b"[203.0.113.5"], Outcome::Unreadable),
    (
        "junk left of an unlisted client",
        &[b"\xff, 203.0.113.5x, 198.51.100.1"],
        Outcome::Served,
    ),
    ("only trusted hops", &[b"127.0.0.1"], Outcome::Served),
];

/// Creates an entry as `token`, panicking with the body when refused.
async fn create_entry(app: &TestApp, token: &str, ip: &str) {
    let body = app.gql(CREATE, json!({ "ip": ip }), Some(token)).await;
    assert!(
        body["data"]["createBlacklistEntry"]["id"].is_string(),
        "create failed: {body}"
    );
}

/// POSTs `{ __typename }` to `url` with the given X-Forwarded-For lines; the status and body.
async fn post(client: &reqwest::Client, url: &str, lines: &[&[u8]]) -> (StatusCode, Value) {
    let mut request = client.post(url).json(&json!({ "query": TYPENAME }));
    for line in lines {
        let value = HeaderValue::from_bytes(line).expect("a legal header value");
        request = request.header("x-forwarded-for", value);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    (status, response.json().await.expect("the body is JSON"))
}

/// GET /healthz with the given X-Forwarded-For lines: the status.
async fn healthz(client: &reqwest::Client, url: &str, lines: &[&[u8]]) -> StatusCode {
    let mut request = client.get(url);
    for line in lines {
        let value = HeaderValue::from_bytes(line).expect("a legal header value");
        request = request.header("x-forwarded-for", value);
    }
    request
        .send()
        .await
        .expect("request reaches the server")
        .status()
}

#[track_caller]
fn assert_outcome(
    case: &str,
    want: Outcome,
    (status, body): &(StatusCode, Value),
    health: StatusCode,
) {
    match want {
        Outcome::Refused => {
            assert_eq!(*status, StatusCode::OK, "{case}: {body}");
            assert_eq!(error_code(body), "FORBIDDEN", "{case}: {body}");
            assert_eq!(
                body["errors"][0]["extensions"]["reason"], "IP_BLACKLISTED",
                "{case}: {body}"
            );
            assert_eq!(health, StatusCode::FORBIDDEN, "{case}");
        }
        Outcome::Unreadable => {
            assert_eq!(*status, StatusCode::BAD_REQUEST, "{case}: {body}");
            assert_eq!(error_code(body), "BAD_REQUEST", "{case}: {body}");
            assert_eq!(
                body["errors"][0]["extensions"]["reason"], "FORWARDED_FOR_UNREADABLE",
                "{case}: {body}"
            );
            assert!(body.get("data").is_none(), "{case}: {body}");
            assert_eq!(health, StatusCode::BAD_REQUEST, "{case}");
        }
        Outcome::Served => {
            assert_eq!(
                (*status, body),
                (
                    StatusCode::OK,
                    &json!({ "data": { "__typename": "Query" } })
                ),
                "{case}"
            );
            assert_eq!(health, StatusCode::OK, "{case}");
        }
    }
}

async fn junk_in_x_forwarded_for_never_lets_a_listed_client_pass_as_the_proxy(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, behind_loopback_proxy).await;
    let admin = app.admin_token().await;
    create_entry(&app, &admin, LISTED).await;
    let (graphql, health) = (app.url("/graphql"), app.url("/healthz"));

    // Act
    let mut answers = Vec::new();
    for (case, lines, _) in SHAPES {
        let answer = post(&app.client, &graphql, lines).await;
        answers.push((case, answer, healthz(&app.client, &health, lines).await));
    }

    // Assert
    for ((case, answer, health), (_, _, want)) in answers.iter().zip(SHAPES) {
        assert_outcome(case, want, answer, *health);
    }
}

/// A client on a loopback address of its own, as a browser elsewhere on the network.
fn client_from(address: &str) -> reqwest::Client {
    let address: IpAddr = address.parse().expect("an address");
    reqwest::Client::builder()
        .local_address(address)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// X-Forwarded-For a client sends to nginx, which appends the client's own address.
const JUNK_TO_NGINX: [(&str, &[&[u8]]); 9] = [
    ("no header", &[]),
    ("junk", &[b"not-an-ip"]),
    ("non-ASCII", &[b"\xff\xfe"]),
    ("non-ASCII before an address", &[b"\x80, 198.51.100.1"]),
    ("two lines of junk", &[b"junk", b"\xc3\xa9 also junk"]),
    ("empty", &[b""]),
    ("empty hops", &[b", ,"]),
    ("brackets and junk", &[b"[::1]:80, [junk"]),
    ("nginx's own address", &[b"127.0.0.3"]),
];

async fn behind_a_real_nginx_junk_in_x_forwarded_for_never_makes_nginx_the_client(
    backend: Backend,
) {
    // Arrange: nginx on 127.0.0.3 (and connecting from there), the only trusted proxy. Listing
    // nginx's own address too means that taking it for the client would refuse everyone.
    let app = spawn_app_with(backend, |config| {
        config.trusted_proxies = vec!["127.0.0.3/32".parse().expect("a CIDR block")];
    })
    .await;
    let admin = app.admin_token().await;
    create_entry(&app, &admin, "127.0.0.5").await;
    create_entry(&app, &admin, "127.0.0.3").await;
    let nginx_address: IpAddr = "127.0.0.3".parse().expect("an address");
    let nginx = Nginx::start(nginx_address, nginx_address, &app.base).await;
    let (graphql, health) = (
        format!("{}/graphql", nginx.base),
        format!("{}/healthz", nginx.base),
    );
    let (listed, unlisted) = (client_from("127.0.0.5"), client_from("127.0.0.6"));

    // Act
    let mut answers = Vec::new();
    for (case, lines) in JUNK_TO_NGINX {
        let from_listed = post(&listed, &graphql, lines).await;
        let listed_health = healthz(&listed, &health, lines).await;
        let from_unlisted = post(&unlisted, &graphql, lines).await;
        let unlisted_health = healthz(&unlisted, &health, lines).await;
        answers.push((
            case,
            from_listed,
            listed_health,
            from_unlisted,
            unlisted_health,
        ));
    }

    // Assert
    for (case, from_listed, listed_health, from_unlisted, unlisted_health) in &answers {
        let log = nginx.log();
        assert_outcome(
            &format!("listed, {case}\n{log}"),
            Outcome::Refused,
            from_listed,
            *listed_health,
        );
        assert_outcome(
            &format!("unlisted, {case}\n{log}"),
            Outcome::Served,
            from_unlisted,
            *unlisted_health,
        );
    }
}

crate::on_backends!([sqlite, postgres] [
    junk_in_x_forwarded_for_never_lets_a_listed_client_pass_as_the_proxy,
    behind_a_real_nginx_junk_in_x_forwarded_for_never_makes_nginx_the_client,
]);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_x_forwarded_for_is_logged_with_the_proxy_and_the_faulty_hop() {
    // Arrange: the real binary, whose log we read; a token in the request must stay out of it.
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.not-a-real-signature-but-secret";
    let server =
        ApiProcess::start(&[("TRUSTED_PROXIES", "127.0.0.1/32"), ("RUST_LOG", "warn")]).await;

    // Act
    let response = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .header("x-forwarded-for", "203.0.113.5, junk")
        .json(&json!({ "query": TYPENAME }))
        .send()
        .await
        .expect("request reaches the server");

    // Assert
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server
        .wait_for_log_line(&[
            "WARN",
            "unreadable X-Forwarded-For",
            "peer=127.0.0.1:",
            "hop 1 from the right: hop is not an IP address",
        ])
        .await;
    assert!(!server.log().contains(token), "{}", server.log());
}
