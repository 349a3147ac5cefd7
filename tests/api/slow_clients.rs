//! Slow clients cannot hold the server: half a head, a trickled head or body, and an idle
//! keep-alive connection are cut within their timeouts; others are answered meanwhile; and the
//! connection cap holds. Spoken over raw sockets, since an HTTP client will not misbehave.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinHandle,
    time::timeout,
};

use crate::helpers::{Backend, TestApp, error_code, spawn_app_with};

/// The timeouts the tests set, short so that they run fast.
const HEADER_TIMEOUT: Duration = Duration::from_millis(400);
const BODY_TIMEOUT: Duration = Duration::from_millis(400);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_millis(1500);
/// Room for a loaded machine between a deadline and our seeing the connection closed.
const SLACK: Duration = Duration::from_secs(2);
/// How often a trickling client sends its next byte: well inside every timeout above.
const TRICKLE_EVERY: Duration = Duration::from_millis(50);
/// Long enough that nothing is cut while a test looks at something else.
const NEVER: Duration = Duration::from_secs(60);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

async fn spawn_with_timeouts(
    backend: Backend,
    header: Duration,
    body: Duration,
    idle: Duration,
) -> TestApp {
    spawn_app_with(backend, |config| {
        config.http_header_read_timeout_ms = header.as_millis() as u64;
        config.http_body_read_timeout_ms = body.as_millis() as u64;
        config.http_keep_alive_timeout_ms = idle.as_millis() as u64;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads until the server closes the connection (end of stream or reset), for at most `limit`:
/// what arrived, and when the connection was closed (`None` if it was still open at `limit`).
async fn read_until_closed(
    stream: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> (Vec<u8>, Option<Instant>) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return (received, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (received, Some(Instant::now())),
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads one response (head, then a `Content-Length` body) within `limit`: its status and body.
async fn read_response(stream: &mut TcpStream, limit: Duration) -> Option<(u16, Vec<u8>)> {
    timeout(limit, async {
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = find(&received, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&received[..end]).to_string();
                let length = header(&head, "content-length").map_or(0, |v| v.parse().unwrap_or(0));
                if received.len() >= end + 4 + length {
                    let status = head.split(' ').nth(1)?.parse().ok()?;
                    return Some((status, received[end + 4..end + 4 + length].to_vec()));
                }
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            received.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .ok()
    .flatten()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// Writes `bytes` one at a time, every [`TRICKLE_EVERY`], until done or the server hangs up.
fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>) -> JoinHandle<()> {
    tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(TRICKLE_EVERY).await;
        }
    })
}

/// A POST /graphql head announcing a body of `length` bytes.
fn post_head(length: usize) -> Vec<u8> {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .into_bytes()
}

#[track_caller]
fn assert_closed_in(
    case: &str,
    closed: Option<Instant>,
    since: Instant,
    at_least: Duration,
    at_most: Duration,
) {
    let closed = closed.unwrap_or_else(|| panic!("{case}: still open after {at_most:?}"));
    let took = closed - since;
    assert!(took >= at_least, "{case}: closed after only {took:?}");
    assert!(
        took <= at_most,
        "{case}: closed after {took:?}, more than {at_most:?}"
    );
}

async fn a_client_that_stops_mid_head_is_cut_within_the_header_timeout(backend: Backend) {
    // Arrange
    let app = spawn_with_timeouts(backend, HEADER_TIMEOUT, NEVER, NEVER).await;
    let started = Instant::now();
    let mut silent = connect(&app).await;
    let mut half = connect(&app).await;
    half.write_all(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        .await
        .expect("write half a head");
    let (mut trickled, writer) = connect(&app).await.into_split();
    // Forty bytes a second would take longer than the header timeout to finish this head.
    let long_head = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(200)
    );
    let trickler = trickle(writer, long_head.into_bytes());

    // Act
    let limit = HEADER_TIMEOUT + SLACK;
    let (silent, half, trickled) = tokio::join!(
        read_until_closed(&mut silent, limit),
        read_until_closed(&mut half, limit),
        read_until_closed(&mut trickled, limit),
    );
    trickler.abort();

    // Assert: cut without an answer, not before the timeout and well within it plus slack.
    for (case, (received, closed)) in [
        ("silent", silent),
        ("half a head", half),
        ("trickled head", trickled),
    ] {
        assert_closed_in(
            case,
            closed,
            started,
            HEADER_TIMEOUT - Duration::from_millis(50),
            limit,
        );
        assert!(
            received.is_empty(),
            "{case}: {}",
            String::from_utf8_lossy(&received)
        );
    }
}

async fn a_trickled_body_is_cut_within_the_body_timeout(backend: Backend) {
    // Arrange: a complete head, then a body announced at 1000 bytes sent a byte at a time.
    let app = spawn_with_timeouts(backend, NEVER, BODY_TIMEOUT, NEVER).await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(&post_head(1000))
        .await
        .expect("write the head");
    let started = Instant::now();
    let trickler = trickle(writer, vec![b' '; 1000]);

    // Act
    let (received, closed) = read_until_closed(&mut reader, BODY_TIMEOUT + SLACK).await;
    trickler.abort();

    // Assert: answered 408 in GraphQL's shape, and the connection closed.
    assert_closed_in(
        "trickled body",
        closed,
        started,
        BODY_TIMEOUT - Duration::from_millis(50),
        BODY_TIMEOUT + SLACK,
    );
    let text = String::from_utf8_lossy(&received).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer: {text}"));
    assert!(head.starts_with("HTTP/1.1 408 "), "{text}");
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(error_code(&body), "BAD_REQUEST", "{body}");
}

async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(backend: Backend) {
    // The header timeout is shorter, to show that idling is timed apart from it.
    closed_after_the_keep_alive_timeout_once_idle(backend, HEADER_TIMEOUT).await;
}

async fn idling_is_timed_even_when_nothing_else_would_wake_the_connection(backend: Backend) {
    // No header deadline falls due during the test: the idle one must fire on its own, not when
    // something else happens to make the server look at the connection.
    closed_after_the_keep_alive_timeout_once_idle(backend, NEVER).await;
}

/// Two requests on one connection, then silence: the server closes it after the keep-alive
/// timeout, without a word.
async fn closed_after_the_keep_alive_timeout_once_idle(backend: Backend, header: Duration) {
    // Arrange
    let app = spawn_with_timeouts(backend, header, NEVER, KEEP_ALIVE_TIMEOUT).await;
    let mut stream = connect(&app).await;
    stream.write_all(HEALTHZ).await.expect("write a request");
    let first = read_response(&mut stream, SLACK).await;
    stream
        .write_all(HEALTHZ)
        .await
        .expect("write a second request");
    let second = read_response(&mut stream, SLACK).await;
    let idle_since = Instant::now();

    // Act
    let (received, closed) = read_until_closed(&mut stream, KEEP_ALIVE_TIMEOUT + SLACK).await;

    // Assert
    assert_eq!(first, Some((200, b"ok".to_vec())));
    assert_eq!(
        second,
        Some((200, b"ok".to_vec())),
        "the connection was kept alive"
    );
    assert_closed_in(
        "idle",
        closed,
        idle_since,
        KEEP_ALIVE_TIMEOUT - Duration::from_millis(300),
        KEEP_ALIVE_TIMEOUT + SLACK,
    );
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

async fn slow_clients_do_not_delay_anyone_else(backend: Backend) {
    // Arrange: thirty clients stuck mid-head and thirty trickling bodies, none cut during the test.
    let app = spawn_with_timeouts(backend, NEVER, NEVER, NEVER).await;
    let mut held = Vec::new();
    let mut tricklers = Vec::new();
    for _ in 0..30 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: loc")
            .await
            .expect("write half a head");
        held.push(stream);
        let (reader, mut writer) = connect(&app).await.into_split();
        writer
            .write_all(&post_head(10_000))
            .await
            .expect("write the head");
        tricklers.push((reader, trickle(writer, vec![b' '; 10_000])));
    }
    let normal = async || {
        let started = Instant::now();
        let body = app.gql("{ __typename }", json!({}), None).await;
        (body, started.elapsed())
    };
    let baseline = normal().await;

    // Act
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(normal().await);
    }

    // Assert
    assert_eq!(baseline.0, json!({ "data": { "__typename": "Query" } }));
    for (body, took) in &answers {
        assert_eq!(*body, json!({ "data": { "__typename": "Query" } }));
        assert!(*took < Duration::from_secs(1), "answered after {took:?}");
    }
    for (_, trickler) in &tricklers {
        assert!(!trickler.is_finished(), "a trickling client was cut early");
    }
    for (_, trickler) in tricklers {
        trickler.abort();
    }
}

async fn above_the_connection_cap_a_connection_waits_until_a_slot_frees(backend: Backend) {
    // Arrange: a cap of three, held by three kept-alive connections.
    let app = spawn_app_with(backend, |config| config.http_max_connections = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        stream.write_all(HEALTHZ).await.expect("write a request");
        assert_eq!(
            read_response(&mut stream, SLACK).await,
            Some((200, b"ok".to_vec()))
        );
        held.push(stream);
    }

    // Act
    let mut fourth = connect(&app).await;
    fourth.write_all(HEALTHZ).await.expect("write a request");
    let while_full = read_response(&mut fourth, Duration::from_millis(700)).await;
    drop(held.pop());
    let freed_at = Instant::now();
    let once_freed = read_response(&mut fourth, SLACK).await;
    let waited = freed_at.elapsed();
    // The two still held stay served.
    let mut still_held = held.pop().expect("a held connection");
    still_held
        .write_all(HEALTHZ)
        .await
        .expect("write a request");
    let on_held = read_response(&mut still_held, SLACK).await;

    // Assert
    assert_eq!(while_full, None, "served beyond the cap");
    assert_eq!(
        once_freed,
        Some((200, b"ok".to_vec())),
        "not served after {waited:?}"
    );
    assert_eq!(on_held, Some((200, b"ok".to_vec())));
}

crate::on_backends!([sqlite, postgres] [
    a_client_that_stops_mid_head_is_cut_within_the_header_timeout,
    a_trickled_body_is_cut_within_the_body_timeout,
    an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout,
    idling_is_timed_even_when_nothing_else_would_wake_the_connection,
    slow_clients_do_not_delay_anyone_else,
    above_the_connection_cap_a_connection_waits_until_a_slot_frees,
]);
