//! Round trips counted, not guessed: an authenticated point query costs exactly one Redis command
//! and one PostgreSQL statement, with nothing else on the wire (no PING, no test query, no prepare).
//!
//! Redis is a private one, so that other tests' traffic cannot pollute its `INFO commandstats`;
//! PostgreSQL is reached through a [`CountingProxy`], which counts the server's messages.

use std::{collections::BTreeMap, time::Duration};

use api::config::Config;
use futures::{StreamExt, stream};
use serde_json::{Value, json};

use crate::{
    counting_proxy::{CountingProxy, Message},
    helpers::{Backend, TestApp, error_code, postgres_admin_url, spawn_app_with},
    private_services::PrivateRedis,
};

const CREATE: &str =
    "mutation($input: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $input) { id } }";
const POINT_QUERY: &str = "query($id: ID!) { blacklistEntry(id: $id) { id ip } }";

/// Point queries per measurement.
const QUERIES: usize = 200;
/// Requests in flight at once in the concurrent measurement: more than the database pool holds
/// ([`DATABASE_CONNECTIONS`]), so that taking a connection under contention is measured too.
const CONCURRENCY: usize = 16;
const DATABASE_CONNECTIONS: u32 = 4;

/// How the measured point queries are sent.
#[derive(Debug, Clone, Copy)]
enum Pace {
    OneAfterAnother,
    Concurrent,
}

impl Pace {
    fn in_flight(self) -> usize {
        match self {
            Self::OneAfterAnother => 1,
            Self::Concurrent => CONCURRENCY,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_queries_one_after_another_cost_one_redis_command_and_one_statement_each() {
    assert_one_round_trip_per_service(Pace::OneAfterAnother).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_point_queries_cost_one_redis_command_and_one_statement_each() {
    assert_one_round_trip_per_service(Pace::Concurrent).await;
}

async fn assert_one_round_trip_per_service(pace: Pace) {
    // Arrange: the server on a Redis of the test's own, and on PostgreSQL through the proxy,
    // started before the server so that every connection of its pool is made through it.
    let redis = PrivateRedis::start().await;
    let postgres = CountingProxy::start(postgres_address()).await;
    let app = spawn_app_through(&postgres, |config| {
        config.redis_url = Some(redis.url());
        config.database_max_connections = Some(DATABASE_CONNECTIONS);
        // The blacklist watcher polls Redis on a timer: background traffic, not a request's. An
        // hour between polls keeps it out of the counts (it polls once, at startup).
        config.blacklist_refresh_ms = 3_600_000;
    })
    .await;
    let token = app.admin_token().await;
    let id = create_entry(&app, &token).await;
    let mut stats = redis::Client::open(redis.url())
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to the private Redis");
    // The pools grow to what this concurrency needs, and each connection prepares its statements,
    // before the counts start: the measured requests find every connection made and ready.
    for _ in 0..3 {
        run_point_queries(&app, &token, &id, 4 * CONCURRENCY, CONCURRENCY).await;
    }
    settle().await;
    let warm_up = postgres.counts();
    reset_command_stats(&mut stats).await;
    postgres.reset();

    // Act
    run_point_queries(&app, &token, &id, QUERIES, pace.in_flight()).await;
    settle().await;
    let commands = command_calls(&mut stats).await;
    let messages = postgres.counts();

    // Assert: every departure is listed, so that one failure shows both services' counts.
    let n = QUERIES as u64;
    let mut wrong = Vec::new();
    if commands != BTreeMap::from([("getex".to_owned(), n)]) {
        wrong.push("Redis: not exactly one command (GETEX, the liveness renewal) per request");
    }
    if warm_up.of(Message::Startup) == 0 || warm_up.of(Message::PARSE) == 0 {
        wrong.push("the proxy saw no connection made nor statement prepared during the warm-up");
    }
    if messages.of(Message::EXECUTE) != n {
        wrong.push("PostgreSQL: not exactly one statement (Execute) per request");
    }
    if messages.of(Message::PARSE) != 0 {
        wrong.push("PostgreSQL: a statement prepared (Parse) on the hot path");
    }
    if messages.of(Message::QUERY) != 0 {
        wrong.push("PostgreSQL: a simple query (a test query or ping)");
    }
    // A statement is Bind, Execute and Close (of the portal) ended by one Sync: one round trip.
    // Any other Sync is a round trip of its own, such as sqlx's ping (a lone Sync).
    if messages.of(Message::SYNC) != n {
        wrong.push("PostgreSQL: not one Sync (round trip) per statement");
    }
    if messages.of(Message::Startup) != 0 {
        wrong.push("PostgreSQL: a new connection on the hot path");
    }
    assert!(
        wrong.is_empty(),
        "{QUERIES} point queries ({pace:?}, {} in flight):\n- {}\n\
         Redis INFO commandstats: {commands:?}\n\
         PostgreSQL messages: {messages}\n\
         PostgreSQL messages during the warm-up before: {warm_up}",
        pace.in_flight(),
        wrong.join("\n- ")
    );
}

/// A point query abandoned in the middle of its statement (the request's deadline passed while the
/// database did not answer) must leave nothing behind on the connection it used: the answer that
/// arrives late is never read as the next query's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_query_abandoned_mid_statement_leaves_no_answer_for_the_next() {
    // Arrange: a pool of two, so that one connection is held for point queries and every point
    // query uses it.
    let postgres = CountingProxy::start(postgres_address()).await;
    let app = spawn_app_through(&postgres, |config| {
        config.database_max_connections = Some(2);
        config.request_timeout_ms = 1_000;
    })
    .await;
    let token = app.admin_token().await;
    let first = create_entry_for(&app, &token, "192.0.2.1").await;
    let second = create_entry_for(&app, &token, "192.0.2.2").await;
    run_point_queries(&app, &token, &first, 4, 1).await;

    // Act: the first entry's query is sent and abandoned; its answer arrives after the deadline.
    postgres.stall();
    let abandoned = app
        .gql(POINT_QUERY, json!({ "id": first }), Some(&token))
        .await;
    postgres.resume();
    let next: Vec<Value> = stream::iter([&second, &first, &second, &first])
        .then(|id| app.gql(POINT_QUERY, json!({ "id": id }), Some(&token)))
        .collect()
        .await;

    // Assert
    assert_eq!(error_code(&abandoned), "TIMEOUT", "{abandoned}");
    let read: Vec<&Value> = next
        .iter()
        .map(|body| &body["data"]["blacklistEntry"]["id"])
        .collect();
    assert_eq!(read, [&second, &first, &second, &first], "{next:?}");
}

/// The server on PostgreSQL through `proxy`, and `adjust`ed.
async fn spawn_app_through(proxy: &CountingProxy, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(Backend::Postgres, |config| {
        config.database_url = config
            .database_url
            .as_deref()
            .map(|url| through_proxy(url, proxy));
        adjust(config);
    })
    .await
}

/// Waits for what the server does after answering, such as handing a connection back to its pool
/// (sqlx may talk to the database then), so that it is counted with the requests that caused it.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// `host:port` of the PostgreSQL server the tests use.
fn postgres_address() -> String {
    let url = reqwest::Url::parse(&postgres_admin_url()).expect("the PostgreSQL URL parses");
    let host = url.host_str().expect("the PostgreSQL URL names a host");
    format!("{host}:{}", url.port().unwrap_or(5432))
}

/// `url` pointed at the proxy, without TLS so that the proxy can read the messages.
fn through_proxy(url: &str, proxy: &CountingProxy) -> String {
    let mut url = reqwest::Url::parse(url).expect("the database URL parses");
    let address = proxy.address();
    url.set_host(Some(&address.ip().to_string()))
        .expect("a URL with a host takes another");
    url.set_port(Some(address.port()))
        .expect("a URL with a host takes a port");
    url.set_query(Some("sslmode=disable"));
    url.to_string()
}

async fn create_entry(app: &TestApp, token: &str) -> Value {
    create_entry_for(app, token, "192.0.2.7").await
}

async fn create_entry_for(app: &TestApp, token: &str, ip: &str) -> Value {
    let body = app
        .gql(CREATE, json!({ "input": { "ip": ip } }), Some(token))
        .await;
    let id = &body["data"]["createBlacklistEntry"]["id"];
    assert!(id.is_string(), "create failed: {body}");
    id.clone()
}

/// Sends `count` point queries, `in_flight` at a time, and checks every answer.
async fn run_point_queries(app: &TestApp, token: &str, id: &Value, count: usize, in_flight: usize) {
    let answers: Vec<Value> = stream::iter(0..count)
        .map(|_| app.gql(POINT_QUERY, json!({ "id": id }), Some(token)))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    for body in answers {
        assert_eq!(body["data"]["blacklistEntry"]["id"], *id, "{body}");
    }
}

async fn reset_command_stats(redis: &mut redis::aio::MultiplexedConnection) {
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async::<()>(redis)
        .await
        .expect("CONFIG RESETSTAT");
}

/// Calls per command since the last reset, from `INFO commandstats`, without the test's own
/// CONFIG RESETSTAT and INFO.
async fn command_calls(redis: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(redis)
        .await
        .expect("INFO commandstats");
    parse_command_calls(&info)
        .into_iter()
        .filter(|(command, _)| command != "config|resetstat" && command != "info")
        .collect()
}

/// `cmdstat_getex:calls=200,usec=…` lines into `{"getex": 200}`.
fn parse_command_calls(info: &str) -> BTreeMap<String, u64> {
    info.lines()
        .filter_map(|line| line.strip_prefix("cmdstat_"))
        .filter_map(|line| {
            let (command, fields) = line.split_once(':')?;
            let calls = fields.split(',').find_map(|f| f.strip_prefix("calls="))?;
            Some((command.to_owned(), calls.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn command_calls_are_read_from_info_commandstats() {
    let info = "# Commandstats\r\ncmdstat_getex:calls=200,usec=900,usec_per_call=4.50,rejected_calls=0,failed_calls=0\r\n\
                cmdstat_ping:calls=3,usec=1,usec_per_call=0.33,rejected_calls=0,failed_calls=0\r\n";

    let calls = parse_command_calls(info);

    assert_eq!(
        calls,
        BTreeMap::from([("getex".to_owned(), 200), ("ping".to_owned(), 3)])
    );
}
