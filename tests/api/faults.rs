//! Faults: Redis or the database dying under a running server, two servers sharing one Redis,
//! and SIGTERM. Each fault is injected into a private instance; the shared services are never stopped.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{
        ADMIN_PASSWORD, Backend, JWT_SECRET, TestApp, TestStorage, error_code, redis_url,
        spawn_app_with,
    },
    private_services::{ApiProcess, PrivatePostgres, PrivateRedis, post_graphql},
};

const ME: &str = "{ me { username } }";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const LIST: &str = "{ blacklistEntries { totalCount } }";
/// The point query, which on PostgreSQL bypasses SeaORM (`api::db::fast`).
const ONE: &str = "query($id: ID!) { blacklistEntry(id: $id) { id } }";
const CREATE: &str = r#"mutation { createBlacklistEntry(input: { ip: "198.51.100.7" }) { id } }"#;

/// A request that needs a dead dependency must fail this fast (DEPENDENCY_TIMEOUT_MS is 2000).
const PROMPTLY: Duration = Duration::from_secs(3);
/// How long a restarted dependency may take to serve requests again, with no server restart.
const RECOVERY: Duration = Duration::from_secs(10);

fn admin_login() -> Value {
    json!({ "u": "admin", "p": ADMIN_PASSWORD })
}

/// Awaits `request` and says how long it took.
async fn timed<T>(request: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let value = request.await;
    (value, started.elapsed())
}

async fn readiness(app: &TestApp) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz answers");
    let status = response.status();
    (status, response.json().await.expect("readyz is JSON"))
}

/// Repeats `attempt` until it returns `Some`, for at most [`RECOVERY`]; panics with the last answer.
async fn within_recovery_time<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Value>>,
{
    let interval = Duration::from_millis(200);
    let deadline = Instant::now() + RECOVERY;
    let mut last = Value::Null;
    for _ in 0..RECOVERY.as_millis() / interval.as_millis() + 1 {
        match attempt().await {
            Ok(value) => return value,
            Err(body) => last = body,
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    panic!("{what} did not recover within {RECOVERY:?}; last answer: {last}");
}

/// Logs in as admin once the server can, returning the token.
async fn login_when_possible(app: &TestApp) -> String {
    within_recovery_time("login", || async {
        let body = app.gql(LOGIN, admin_login(), None).await;
        match body["data"]["login"]["token"].as_str() {
            Some(token) => Ok(token.to_owned()),
            None => Err(body),
        }
    })
    .await
}

/// A server whose only Redis is `redis`, on the embedded SQLite database so that only Redis can fail.
async fn spawn_app_on_private_redis(redis: &PrivateRedis) -> TestApp {
    let url = redis.url();
    spawn_app_with(Backend::Sqlite, |config| config.redis_url = Some(url)).await
}

/// A server whose database is `postgres`, with the shared Redis (its own key prefix) as token store.
/// The SQLite "storage" only lends an unused data dir: DATABASE_URL points at the private cluster.
async fn spawn_app_on_private_postgres(postgres: &PrivatePostgres) -> TestApp {
    let url = postgres.url();
    spawn_app_with(Backend::Sqlite, |config| {
        config.database_url = Some(url);
        config.redis_url = Some(redis_url());
    })
    .await
}

/// Counts blacklist entries over a connection of its own, so the count does not depend on the server's pool.
async fn count_entries(database_url: &str) -> i64 {
    let db = Database::connect(database_url)
        .await
        .expect("connect to the restarted database");
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM blacklist_entry",
        ))
        .await
        .expect("count query")
        .expect("a row");
    let count = row.try_get::<i64>("", "n").expect("a count");
    db.close().await.expect("close");
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_every_request_fails_closed_within_the_dependency_timeout() {
    // Arrange
    let mut redis = PrivateRedis::start().await;
    let app = spawn_app_on_private_redis(&redis).await;
    assert_eq!(app.config.dependency_timeout_ms, 2_000, "the default");
    let token = app.admin_token().await;
    redis.stop();

    // Act and assert
    assert_every_request_fails_closed_without_the_token_store(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stalled_every_request_fails_closed_within_the_dependency_timeout() {
    // Arrange: a Redis that keeps its connections open and never answers, so only the timeout can help.
    let redis = PrivateRedis::start().await;
    let app = spawn_app_on_private_redis(&redis).await;
    assert_eq!(app.config.dependency_timeout_ms, 2_000, "the default");
    let token = app.admin_token().await;
    redis.freeze().await;

    // Act and assert
    assert_every_request_fails_closed_without_the_token_store(&app, &token).await;
    redis.thaw().await;
}

/// A session check, a login, a write and readyz while Redis cannot answer: each refused with
/// SERVICE_UNAVAILABLE within the dependency timeout, and nothing written.
async fn assert_every_request_fails_closed_without_the_token_store(app: &TestApp, token: &str) {
    let (me, me_took) = timed(app.gql(ME, json!({}), Some(token))).await;
    let (login, login_took) = timed(app.gql(LOGIN, admin_login(), None)).await;
    let (create, create_took) = timed(app.gql(CREATE, json!({}), Some(token))).await;
    let (ready, ready_took) = timed(readiness(app)).await;

    assert_eq!(error_code(&me), "SERVICE_UNAVAILABLE", "{me}");
    assert!(me_took < PROMPTLY, "me took {me_took:?}");
    assert_eq!(error_code(&login), "SERVICE_UNAVAILABLE", "{login}");
    assert!(login["data"].is_null(), "{login}");
    assert!(login_took < PROMPTLY, "login took {login_took:?}");
    assert_eq!(error_code(&create), "SERVICE_UNAVAILABLE", "{create}");
    assert!(create["data"].is_null(), "{create}");
    assert!(create_took < PROMPTLY, "create took {create_took:?}");
    assert_eq!(app.count_rows("blacklist_entry").await, 0);
    assert_eq!(
        ready,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "database": "ok", "tokenStore": "unavailable" })
        )
    );
    assert!(ready_took < PROMPTLY, "readyz took {ready_took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_redis_is_back_requests_succeed_again_without_a_server_restart() {
    // Arrange: the server has seen Redis die, so its pooled connections are broken.
    let mut redis = PrivateRedis::start().await;
    let app = spawn_app_on_private_redis(&redis).await;
    let old_token = app.admin_token().await;
    redis.stop();
    let down = app.gql(ME, json!({}), Some(&old_token)).await;
    assert_eq!(error_code(&down), "SERVICE_UNAVAILABLE", "{down}");

    // Act
    redis.restart().await;
    let new_token = login_when_possible(&app).await;
    let me = app.gql(ME, json!({}), Some(&new_token)).await;
    let old = app.gql(ME, json!({}), Some(&old_token)).await;
    let ready = readiness(&app).await;

    // Assert
    assert_eq!(me, json!({ "data": { "me": { "username": "admin" } } }));
    // The restarted Redis kept nothing, so the token issued before the outage is dead.
    assert_eq!(error_code(&old), "UNAUTHENTICATED", "{old}");
    assert_eq!(
        ready,
        (
            StatusCode::OK,
            json!({ "database": "ok", "tokenStore": "ok" })
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_stopped_requests_are_unavailable_promptly_and_write_nothing() {
    // Arrange
    let postgres = PrivatePostgres::start().await;
    let app = spawn_app_on_private_postgres(&postgres).await;
    assert_eq!(app.config.dependency_timeout_ms, 2_000, "the default");
    let token = app.admin_token().await;
    postgres.stop().await;

    // Act
    let (list, list_took) = timed(app.gql(LIST, json!({}), Some(&token))).await;
    let one_id = json!({ "id": Uuid::now_v7().to_string() });
    let (one, one_took) = timed(app.gql(ONE, one_id, Some(&token))).await;
    let (create, create_took) = timed(app.gql(CREATE, json!({}), Some(&token))).await;
    let (login, login_took) = timed(app.gql(LOGIN, admin_login(), None)).await;
    let (ready, ready_took) = timed(readiness(&app)).await;
    postgres.restart().await;
    let entries = count_entries(&postgres.url()).await;

    // Assert
    assert_eq!(error_code(&list), "SERVICE_UNAVAILABLE", "{list}");
    assert!(list_took < PROMPTLY, "blacklistEntries took {list_took:?}");
    assert_eq!(error_code(&one), "SERVICE_UNAVAILABLE", "{one}");
    assert!(one_took < PROMPTLY, "blacklistEntry took {one_took:?}");
    assert_eq!(error_code(&create), "SERVICE_UNAVAILABLE", "{create}");
    assert!(create_took < PROMPTLY, "create took {create_took:?}");
    assert_eq!(error_code(&login), "SERVICE_UNAVAILABLE", "{login}");
    assert!(login_took < PROMPTLY, "login took {login_took:?}");
    assert_eq!(
        ready,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "database": "unavailable", "tokenStore": "ok" })
        )
    );
    assert!(ready_took < PROMPTLY, "readyz took {ready_took:?}");
    assert_eq!(entries, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_the_database_is_back_requests_succeed_again_without_a_server_restart() {
    // Arrange: the server has seen the database die, so its pooled connections are broken.
    let postgres = PrivatePostgres::start().await;
    let app = spawn_app_on_private_postgres(&postgres).await;
    let token = app.admin_token().await;
    postgres.stop().await;
    let down = app.gql(LIST, json!({}), Some(&token)).await;
    assert_eq!(error_code(&down), "SERVICE_UNAVAILABLE", "{down}");

    // Act
    postgres.restart().await;
    let list = within_recovery_time("blacklistEntries", || async {
        let body = app.gql(LIST, json!({}), Some(&token)).await;
        if body["errors"].is_null() {
            Ok(body)
        } else {
            Err(body)
        }
    })
    .await;
    let create = app.gql(CREATE, json!({}), Some(&token)).await;
    let created_id = create["data"]["createBlacklistEntry"]["id"].clone();
    let one = app
        .gql(ONE, json!({ "id": created_id }), Some(&token))
        .await;
    let ready = readiness(&app).await;

    // Assert
    assert_eq!(
        list,
        json!({ "data": { "blacklistEntries": { "totalCount": 0 } } })
    );
    assert!(
        create["data"]["createBlacklistEntry"]["id"].is_string(),
        "{create}"
    );
    assert_eq!(
        one["data"]["blacklistEntry"]["id"], create["data"]["createBlacklistEntry"]["id"],
        "{one}"
    );
    assert_eq!(
        ready,
        (
            StatusCode::OK,
            json!({ "database": "ok", "tokenStore": "ok" })
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_tokens_and_a_logout_on_one_is_refused_by_the_other_at_once() {
    // Arrange: two real servers on one database and one Redis key prefix, as two replicas would run.
    let storage = TestStorage::create(Backend::Postgres).await;
    let database_url = storage.database_url().expect("a server database");
    let redis = redis_url();
    let prefix = format!("gqltest:{}:", Uuid::now_v7().simple());
    let env = [
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
        ("JWT_SECRET", JWT_SECRET),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("TOKEN_IDLE_TTL_SECS", "300"),
        ("PASSWORD_HASH_MEMORY_KIB", "256"),
        ("PASSWORD_HASH_ITERATIONS", "1"),
    ];
    // One after the other: A migrates and creates the admin, B finds both done.
    let a = ApiProcess::start(&env).await;
    let b = ApiProcess::start(&env).await;
    let login = a.gql(LOGIN, admin_login(), None).await;
    let token = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login on A failed: {login}"));

    // Act
    let on_b = b.gql(ME, json!({}), Some(token)).await;
    let logout = a.gql("mutation { logout }", json!({}), Some(token)).await;
    let on_b_after_logout = b.gql(ME, json!({}), Some(token)).await;

    // Assert
    assert_eq!(on_b, json!({ "data": { "me": { "username": "admin" } } }));
    assert_eq!(logout, json!({ "data": { "logout": true } }));
    assert_eq!(
        error_code(&on_b_after_logout),
        "UNAUTHENTICATED",
        "{on_b_after_logout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_login_finish_then_exits_cleanly() {
    // Arrange: hashing costly enough (about a second a login here) that the login is still
    // being verified when SIGTERM lands; the server's own log says when the request has arrived.
    let mut server = ApiProcess::start(&[
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("PASSWORD_HASH_MEMORY_KIB", "65536"),
        ("PASSWORD_HASH_ITERATIONS", "24"),
        ("RUST_LOG", "info,api::http=debug"),
    ])
    .await;
    let client = server.client.clone();
    let url = server.url("/graphql");
    let login = tokio::spawn(async move {
        let body = post_graphql(&client, &url, LOGIN, admin_login(), None).await;
        (body, Instant::now())
    });
    server
        .wait_for_log_line(&["started processing request", "/graphql"])
        .await;

    // Act
    let terminated_at = Instant::now();
    server.terminate().await;
    let (body, answered_at) = login.await.expect("the login task finishes");
    let status = server.wait_for_exit(Duration::from_secs(15)).await;
    let reconnect = tokio::net::TcpStream::connect(server.address()).await;

    // Assert
    assert!(
        body["data"]["login"]["token"].is_string(),
        "{body}\n{}",
        server.log()
    );
    assert!(
        answered_at > terminated_at,
        "the login was answered before SIGTERM"
    );
    let status = status.unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", server.log()));
    assert!(status.success(), "exited with {status}:\n{}", server.log());
    let refused = reconnect.expect_err("nothing listens after the exit");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}
