//! Subscriptions over WebSocket (graphql-transport-ws on /graphql), with a real WebSocket client:
//! `blacklistChanged` events, the `connection_init` handshake, and sockets that close with 4403
//! within a second of their token ending.

use std::time::Duration;

use api::service::accounts;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{net::TcpStream, time::Instant};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    helpers::{Backend, TestApp, spawn_app, spawn_app_with},
    node,
};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SUBSCRIPTION: &str = "subscription { blacklistChanged { kind entry { ip remark } } }";
const CREATE: &str = "mutation($ip: String!) { createBlacklistEntry(input: { ip: $ip }) { id } }";
const UPDATE: &str =
    "mutation($id: ID!) { updateBlacklistEntry(id: $id, input: { remark: \"seen\" }) { id } }";
const DELETE: &str = "mutation($id: ID!) { deleteBlacklistEntry(id: $id) }";
const LOGOUT: &str = "mutation { logout }";
const REVOKE: &str = "mutation($u: String!) { revokeTokens(username: $u) }";
const READER: &str = "reader";
/// The role `token_with_permissions` gives `reader` its permissions through.
const READER_ROLE: &str = "reader-role";
/// Longest any single step may take before the test gives up.
const STEP: Duration = Duration::from_secs(10);
/// How soon after its token ends a socket must be closed.
const WITHIN: Duration = Duration::from_secs(1);

/// Opens a WebSocket on /graphql asking for graphql-transport-ws.
pub(crate) async fn connect(app: &TestApp) -> Socket {
    let url = format!("{}/graphql", app.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("a WebSocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (socket, response) = tokio::time::timeout(STEP, connect_async(request))
        .await
        .expect("the upgrade is answered in time")
        .expect("the server upgrades the connection");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send a message");
}

/// The next protocol message; panics on a close or when none comes in time.
pub(crate) async fn receive(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(STEP, socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .expect("a readable frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Close(frame) => panic!("the socket closed: {frame:?}"),
            _ => continue,
        }
    }
}

/// Reads until the server closes the socket; its close code and when the close arrived.
pub(crate) async fn closed(socket: &mut Socket) -> (u16, Instant) {
    loop {
        let frame = tokio::time::timeout(STEP, socket.next())
            .await
            .expect("the socket closes in time");
        match frame {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code.into(), Instant::now()),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                panic!("the socket ended without a close code")
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// Connects and completes the handshake with `payload`.
pub(crate) async fn initialised(app: &TestApp, payload: Value) -> Socket {
    let mut socket = connect(app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    assert_eq!(
        receive(&mut socket).await,
        json!({ "type": "connection_ack" })
    );
    socket
}

/// A socket subscribed to `blacklistChanged` with `token`, the subscription in place: the server
/// answers pings in order, and by the second pong it has started the subscription sent before.
pub(crate) async fn subscribed(app: &TestApp, token: &str) -> Socket {
    let mut socket = initialised(app, json!({ "Authorization": format!("Bearer {token}") })).await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
    )
    .await;
    for _ in 0..2 {
        send(&mut socket, json!({ "type": "ping" })).await;
        assert_eq!(receive(&mut socket).await, json!({ "type": "pong" }));
    }
    socket
}

async fn reader_token(app: &TestApp) -> String {
    app.token_with_permissions(READER, &["blacklist:read"])
        .await
}

pub(crate) async fn create_entry(app: &TestApp, token: &str, ip: &str) -> String {
    let body = app.gql(CREATE, json!({ "ip": ip }), Some(token)).await;
    body["data"]["createBlacklistEntry"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("create failed: {body}"))
        .to_owned()
}

fn event(kind: &str, ip: &str, remark: Option<&str>) -> Value {
    json!({ "id": "1", "type": "next", "payload": { "data": { "blacklistChanged": {
        "kind": kind, "entry": { "ip": ip, "remark": remark },
    } } } })
}

/// Asserts the socket closes with 4403 within a second of `ended`.
async fn assert_closed_soon_after(socket: &mut Socket, ended: Instant) {
    let (code, at) = closed(socket).await;
    assert_eq!(code, 4403);
    let took = at.saturating_duration_since(ended);
    assert!(took <= WITHIN, "closed {took:?} after the token ended");
}

async fn a_subscriber_receives_created_updated_and_deleted_entries(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let mut socket = subscribed(&app, &reader_token(&app).await).await;

    // Act
    let id = create_entry(&app, &admin, "192.0.2.7").await;
    let updated = app.gql(UPDATE, json!({ "id": id }), Some(&admin)).await;
    let deleted = app.gql(DELETE, json!({ "id": id }), Some(&admin)).await;

    // Assert
    assert!(updated["errors"].is_null(), "{updated}");
    assert!(deleted["errors"].is_null(), "{deleted}");
    assert_eq!(
        receive(&mut socket).await,
        event("CREATED", "192.0.2.7", None)
    );
    assert_eq!(
        receive(&mut socket).await,
        event("UPDATED", "192.0.2.7", Some("seen"))
    );
    assert_eq!(
        receive(&mut socket).await,
        event("DELETED", "192.0.2.7", Some("seen"))
    );
}

async fn subscribing_without_blacklist_read_is_forbidden(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = app
        .token_with_permissions("writer", &["blacklist:create"])
        .await;
    let mut socket = initialised(&app, json!({ "X-AUTH-TOKEN": token })).await;

    // Act
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } }),
    )
    .await;
    let answer = receive(&mut socket).await;

    // Assert
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{answer}"
    );
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["permission"], "blacklist:read",
        "{answer}"
    );
    assert_eq!(
        receive(&mut socket).await,
        json!({ "id": "1", "type": "complete" })
    );
}

async fn a_handshake_without_a_live_token_is_closed_with_4403(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = reader_token(&app).await;
    app.gql(LOGOUT, json!({}), Some(&token)).await;

    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({ "Authorization": format!("Bearer {token}") }),
        json!({ "Authorization": 42 }),
    ] {
        // Act
        let mut socket = connect(&app).await;
        send(
            &mut socket,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;

        // Assert
        assert_eq!(closed(&mut socket).await.0, 4403, "{payload}");
    }
}

async fn a_socket_that_never_sends_connection_init_is_closed_with_4408(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| {
        config.ws_connection_init_timeout_ms = 300;
    })
    .await;

    // Act
    let opened = Instant::now();
    let mut socket = connect(&app).await;
    let (code, at) = closed(&mut socket).await;

    // Assert
    assert_eq!(code, 4408);
    assert!(at - opened >= Duration::from_millis(300));
}

async fn logging_out_closes_the_subscription_within_a_second(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = reader_token(&app).await;
    let mut socket = subscribed(&app, &token).await;

    // Act
    let logout = app.gql(LOGOUT, json!({}), Some(&token)).await;
    let ended = Instant::now();

    // Assert
    assert_eq!(logout, json!({ "data": { "logout": true } }));
    assert_closed_soon_after(&mut socket, ended).await;
}

async fn revoking_the_tokens_closes_the_subscription_within_a_second(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let mut socket = subscribed(&app, &reader_token(&app).await).await;

    // Act
    let revoked = app.gql(REVOKE, json!({ "u": READER }), Some(&admin)).await;
    let ended = Instant::now();

    // Assert
    assert_eq!(revoked, json!({ "data": { "revokeTokens": 1 } }));
    assert_closed_soon_after(&mut socket, ended).await;
}

async fn withdrawing_blacklist_read_closes_the_subscription_within_a_second(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let mut socket = subscribed(&app, &reader_token(&app).await).await;

    // Act
    accounts::revoke_role(
        &app.cli_state().await,
        READER_ROLE,
        &["blacklist:read".to_owned()],
    )
    .await
    .expect("withdraw the permission");
    let ended = Instant::now();

    // Assert
    assert_closed_soon_after(&mut socket, ended).await;
}

async fn an_idle_token_ends_its_subscription_which_does_not_keep_it_alive(backend: Backend) {
    // Arrange: the handshake is the token's last use.
    let idle = Duration::from_secs(2);
    let app = spawn_app_with(backend, |config| {
        config.token_idle_ttl_secs = idle.as_secs();
    })
    .await;
    let token = reader_token(&app).await;
    let last_use = Instant::now();

    // Act
    let mut socket = subscribed(&app, &token).await;
    let (code, at) = closed(&mut socket).await;

    // Assert
    assert_eq!(code, 4403);
    let lived = at - last_use;
    assert!(
        lived <= idle + WITHIN,
        "closed {lived:?} after the last use"
    );
}

async fn a_token_past_its_expiry_ends_its_subscription(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| {
        config.token_max_ttl_secs = 2;
    })
    .await;
    let token = reader_token(&app).await;
    let exp = crate::helpers::token_claims(&token)["exp"]
        .as_i64()
        .expect("an exp claim");

    // Act
    let mut socket = subscribed(&app, &token).await;
    let (code, _) = closed(&mut socket).await;
    let closed_at = chrono::Utc::now();

    // Assert
    assert_eq!(code, 4403);
    let late = closed_at.timestamp_millis() - exp * 1000;
    assert!(
        (0..=1000).contains(&late),
        "closed {late} ms after the token's exp"
    );
}

async fn open_sockets_count_against_the_connection_cap(backend: Backend) {
    // Arrange: every HTTP request goes over a connection closed after it, so the cap holds sockets only.
    let app = spawn_app_with(backend, |config| {
        config.http_max_connections = 2;
    })
    .await;
    let one_shot = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client")
    };
    app.create_user(READER, "reader-password", &["blacklist:read"], None, None)
        .await;
    let login = one_shot()
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation { login(username: \"reader\", password: \"reader-password\") { token } }"
        }))
        .send()
        .await
        .expect("log in")
        .json::<Value>()
        .await
        .expect("JSON");
    let token = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {login}"))
        .to_owned();
    let mut first = subscribed(&app, &token).await;
    let _second = subscribed(&app, &token).await;

    // Act
    let health = app.url("/healthz");
    let mut third = tokio::spawn(async move { one_shot().get(health).send().await });
    let waited = tokio::time::timeout(Duration::from_millis(500), &mut third).await;
    first.close(None).await.expect("close the first socket");
    let served = tokio::time::timeout(STEP, third)
        .await
        .expect("served once a socket closed")
        .expect("the request task")
        .expect("a response");

    // Assert
    assert!(
        waited.is_err(),
        "a third connection was served beside two sockets"
    );
    assert_eq!(served.status(), 200);
}

async fn the_http_timeouts_do_not_cut_an_open_socket(backend: Backend) {
    // Arrange
    let timeout = Duration::from_millis(200);
    let app = spawn_app_with(backend, |config| {
        config.http_header_read_timeout_ms = timeout.as_millis() as u64;
        config.http_keep_alive_timeout_ms = timeout.as_millis() as u64;
    })
    .await;
    let admin = app.admin_token().await;
    let mut socket = subscribed(&app, &reader_token(&app).await).await;

    // Act: a quiet socket, for several times the HTTP timeouts.
    tokio::time::sleep(timeout * 4).await;
    create_entry(&app, &admin, "192.0.2.8").await;

    // Assert
    assert_eq!(
        receive(&mut socket).await,
        event("CREATED", "192.0.2.8", None)
    );
}

/// A document sent over the socket meets the limits a POST's would: here one alias over
/// QUERY_MAX_ALIASES closes the socket with 4400 before anything runs, while one at the limit runs.
async fn a_document_over_the_limits_is_refused_over_the_socket_as_over_http(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = reader_token(&app).await;
    let aliased = |count: usize| {
        let fields: String = (0..count)
            .map(|n| format!("a{n}: me {{ username }} "))
            .collect();
        format!("query {{ {fields}}}")
    };
    let limit = app.config.query_max_aliases;
    let payload = json!({ "Authorization": format!("Bearer {token}") });
    let mut within = initialised(&app, payload.clone()).await;
    let mut over = initialised(&app, payload.clone()).await;
    let mut respelled = initialised(&app, payload).await;

    // Act
    let subscribe =
        |query: String| json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    send(&mut within, subscribe(aliased(limit))).await;
    send(&mut over, subscribe(aliased(limit + 1))).await;
    // The same message with its `type` twice: a reader that kept one and a reader that kept the
    // other must not disagree on whether this is a subscribe to check.
    let twice = subscribe(aliased(limit + 1)).to_string().replacen(
        r#""type":"subscribe""#,
        r#""type":"ping","type":"subscribe""#,
        1,
    );
    respelled.send(Message::text(twice)).await.expect("send");

    // Assert
    let answer = receive(&mut within).await;
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(
        answer["payload"]["data"]["a0"]["username"], READER,
        "{answer}"
    );
    for socket in [&mut over, &mut respelled] {
        let (code, _) = closed(socket).await;
        assert_eq!(code, 4400);
    }
}

/// The server's MAX_SUBSCRIPTIONS: subscriptions one socket may hold open at once.
const MAX_OPEN: usize = 32;

fn subscribe(id: usize) -> Value {
    json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": SUBSCRIPTION } })
}

/// Pings and expects the pong, after nothing but `complete`s: every message sent before has
/// been taken.
async fn assert_open(socket: &mut Socket) {
    send(socket, json!({ "type": "ping" })).await;
    loop {
        let message = receive(socket).await;
        if message == json!({ "type": "pong" }) {
            return;
        }
        assert_eq!(message["type"], "complete", "{message}");
    }
}

async fn a_socket_holds_a_bounded_number_of_subscriptions(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let token = reader_token(&app).await;
    let mut socket = initialised(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    for id in 1..=MAX_OPEN {
        send(&mut socket, subscribe(id)).await;
    }
    assert_open(&mut socket).await;

    // Act: one completed by the client makes room for one more, and no more.
    send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
    send(&mut socket, subscribe(MAX_OPEN + 1)).await;
    assert_open(&mut socket).await;
    send(&mut socket, subscribe(MAX_OPEN + 2)).await;

    // Assert
    assert_eq!(closed(&mut socket).await.0, 4429);
}

async fn subscriptions_the_server_ends_free_their_place(backend: Backend) {
    // Arrange: a token without blacklist:read, whose every subscription the server ends at once.
    let app = spawn_app(backend).await;
    let token = app
        .token_with_permissions("writer", &["blacklist:create"])
        .await;
    let mut socket = initialised(&app, json!({ "X-AUTH-TOKEN": token })).await;

    // Act
    for id in 1..=MAX_OPEN * 2 {
        send(&mut socket, subscribe(id)).await;
        assert_eq!(receive(&mut socket).await["type"], "next");
        assert_eq!(receive(&mut socket).await["type"], "complete");
    }

    // Assert
    assert_open(&mut socket).await;
}

crate::on_backends!([sqlite, postgres] [
    a_socket_holds_a_bounded_number_of_subscriptions,
    subscriptions_the_server_ends_free_their_place,
    a_subscriber_receives_created_updated_and_deleted_entries,
    a_document_over_the_limits_is_refused_over_the_socket_as_over_http,
    the_http_timeouts_do_not_cut_an_open_socket,
    subscribing_without_blacklist_read_is_forbidden,
    a_handshake_without_a_live_token_is_closed_with_4403,
    a_socket_that_never_sends_connection_init_is_closed_with_4408,
    logging_out_closes_the_subscription_within_a_second,
    revoking_the_tokens_closes_the_subscription_within_a_second,
    withdrawing_blacklist_read_closes_the_subscription_within_a_second,
    an_idle_token_ends_its_subscription_which_does_not_keep_it_alive,
    a_token_past_its_expiry_ends_its_subscription,
    open_sockets_count_against_the_connection_cap,
    the_graphql_ws_client_receives_a_change_and_is_closed_by_its_logout,
]);

async fn a_subscriber_on_one_instance_receives_changes_made_on_another(backend: Backend) {
    // Arrange: two servers on one database and one Redis key prefix, as two replicas run.
    let a = spawn_app(backend).await;
    let b = a.spawn_replica().await;
    let admin = a.admin_token().await;
    let mut on_b = subscribed(&b, &reader_token(&a).await).await;

    // Act
    create_entry(&a, &admin, "198.51.100.0/24").await;

    // Assert
    assert_eq!(
        receive(&mut on_b).await,
        event("CREATED", "198.51.100.0/24", None)
    );
}

async fn a_logout_on_one_instance_closes_the_subscription_on_another(backend: Backend) {
    // Arrange
    let a = spawn_app(backend).await;
    let b = a.spawn_replica().await;
    let token = reader_token(&a).await;
    let mut on_b = subscribed(&b, &token).await;

    // Act
    a.gql(LOGOUT, json!({}), Some(&token)).await;
    let ended = Instant::now();

    // Assert
    assert_closed_soon_after(&mut on_b, ended).await;
}

/// Across instances needs the shared Redis.
mod across_instances {
    use super::*;

    crate::on_backends!([postgres] [
        a_subscriber_on_one_instance_receives_changes_made_on_another,
        a_logout_on_one_instance_closes_the_subscription_on_another,
    ]);
}

async fn the_graphql_ws_client_receives_a_change_and_is_closed_by_its_logout(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    app.create_user(
        READER,
        "reader-password",
        &["blacklist:read", "blacklist:create"],
        None,
        None,
    )
    .await;

    // Act
    let output = node::run(
        "subscriptions.mjs",
        &[],
        &[
            ("API_URL", &app.base),
            ("API_USERNAME", READER),
            ("API_PASSWORD", "reader-password"),
            // Node 20's WebSocket is behind a flag; graphql-ws needs one.
            ("NODE_OPTIONS", "--experimental-websocket"),
        ],
        Duration::from_secs(60),
    )
    .await;

    // Assert
    let report: Value = serde_json::from_str(output.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("the program reports JSON last: {output}"));
    let change = &report["event"]["blacklistChanged"];
    assert_eq!(change["kind"], "CREATED", "{report}");
    assert!(
        change["entry"]["ip"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("203.0.113.")),
        "{report}"
    );
    assert_eq!(report["closeCode"], 4403, "{report}");
    let after = report["closedAfterLogoutMs"].as_f64().expect("a duration");
    assert!(after <= 1000.0, "closed {after} ms after the logout");
}
