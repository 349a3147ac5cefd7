//! Revocation that cannot be raced: logins in flight while an account is disabled, given a new
//! password or loses a permission get no token that outlives the change; changes made by another
//! process reach an embedded server's in-process store; the per-subject token index stays bounded.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use api::accounts;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, behind_loopback_proxy, error_code, spawn_app_with};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
const LIST: &str = "{ blacklistEntries { totalCount } }";
const USER: &str = "racer";
const PASSWORD: &str = "racer-password";
const ROLE: &str = "racer-role";
/// Logins racing each change: enough that some are in flight when it lands.
const RACERS: usize = 6;

/// A server (two with Redis, as behind a balancer) whose password checks take real time, so a
/// change can land while a login is between its check and its token.
async fn spawn_racetrack(backend: Backend) -> Vec<TestApp> {
    let app = spawn_app_with(backend, |config| {
        behind_loopback_proxy(config);
        config.password_hash_memory_kib = 8 * 1024;
        config.password_hash_iterations = 3;
        config.login_max_failures_per_name = Some(10_000);
    })
    .await;
    app.create_user(USER, PASSWORD, &["blacklist:read"], None, None)
        .await;
    let mut apps = vec![app];
    if backend != Backend::Sqlite {
        let replica = apps[0].spawn_replica().await;
        apps.push(replica);
    }
    apps
}

/// Logs in over and over from `RACERS` clients until `stop`, returning every token obtained.
async fn race_logins(apps: &[TestApp], stop: Arc<AtomicBool>) -> Vec<String> {
    let racers = (0..RACERS).map(|n| {
        let app = &apps[n % apps.len()];
        let stop = Arc::clone(&stop);
        async move {
            let mut tokens = Vec::new();
            let from = format!("198.51.100.{}", n + 1);
            while !stop.load(Ordering::Relaxed) {
                let body = app
                    .gql_with_header(
                        LOGIN,
                        json!({ "u": USER, "p": PASSWORD }),
                        "X-Forwarded-For",
                        &from,
                    )
                    .await;
                match body["data"]["login"]["token"].as_str() {
                    Some(token) => tokens.push(token.to_owned()),
                    // Another login of the name in flight, or the account already changed.
                    None => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            tokens
        }
    });
    join_all(racers).await.into_iter().flatten().collect()
}

/// Runs `change` while logins race it; returns the tokens obtained before, during and after.
async fn tokens_racing<F, Fut>(apps: &[TestApp], change: F) -> Vec<String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let (tokens, ()) = tokio::join!(race_logins(apps, Arc::clone(&stop)), async {
        // Let some logins succeed first, so the change meets tokens of every age.
        tokio::time::sleep(Duration::from_millis(300)).await;
        change().await;
        // Logins in flight when the change returned finish; none may yield a working token.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
    });
    assert!(!tokens.is_empty(), "no login succeeded before the change");
    tokens
}

async fn answers_with(apps: &[TestApp], tokens: &[String]) -> Vec<Value> {
    let requests = tokens
        .iter()
        .enumerate()
        .map(|(n, token)| apps[n % apps.len()].gql(LIST, json!({}), Some(token)));
    join_all(requests).await
}

async fn logins_racing_a_disable_get_no_token_that_outlives_it(backend: Backend) {
    // Arrange
    let apps = spawn_racetrack(backend).await;
    let cli = apps[0].cli_state().await;

    // Act
    let tokens = tokens_racing(&apps, || async {
        accounts::disable_user(&cli, USER).await.expect("disable");
    })
    .await;
    let answers = answers_with(&apps, &tokens).await;

    // Assert
    for body in &answers {
        assert_eq!(
            error_code(body),
            "UNAUTHENTICATED",
            "a token outlived the disable: {body}"
        );
    }
}

async fn logins_racing_a_new_password_get_no_token_that_outlives_it(backend: Backend) {
    // Arrange
    let apps = spawn_racetrack(backend).await;
    let cli = apps[0].cli_state().await;

    // Act
    let tokens = tokens_racing(&apps, || async {
        accounts::change_password(&cli, USER, "a-brand-new-password")
            .await
            .expect("new password");
    })
    .await;
    let answers = answers_with(&apps, &tokens).await;

    // Assert
    for body in &answers {
        assert_eq!(
            error_code(body),
            "UNAUTHENTICATED",
            "a token outlived the new password: {body}"
        );
    }
}

async fn logins_racing_a_withdrawn_permission_get_no_token_that_keeps_it(backend: Backend) {
    // Arrange
    let apps = spawn_racetrack(backend).await;
    let cli = apps[0].cli_state().await;

    // Act
    let tokens = tokens_racing(&apps, || async {
        accounts::revoke_role(&cli, ROLE, &["blacklist:read".to_owned()])
            .await
            .expect("withdraw");
    })
    .await;
    let answers = answers_with(&apps, &tokens).await;

    // Assert
    for body in &answers {
        assert_eq!(
            error_code(body),
            "FORBIDDEN",
            "a token kept the withdrawn permission: {body}"
        );
    }
}

/// Polls with `token` until it is refused with `code`, for at most `within`.
async fn refused_within(app: &TestApp, token: &str, code: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let body = app.gql(LIST, json!({}), Some(token)).await;
        if body["errors"][0]["extensions"]["code"] == code {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "still served after {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The CLI is another process with an in-process store of its own: its changes reach the
/// embedded server's live tokens through the database within a second.
async fn cli_changes_reach_an_embedded_servers_tokens_within_a_second(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |_| {}).await;
    app.create_user(USER, PASSWORD, &["blacklist:read"], None, None)
        .await;
    app.create_user("other", "other-password", &["blacklist:read"], None, None)
        .await;
    let disabled = app.login(USER, PASSWORD).await;
    let withdrawn = app.login("other", "other-password").await;
    // As the `api` command builds it: its own state, its own in-process store.
    let cli = api::app::build_state(&app.config).await.expect("CLI state");

    // Act
    accounts::disable_user(&cli, USER).await.expect("disable");
    accounts::revoke_role(&cli, "other-role", &["blacklist:read".to_owned()])
        .await
        .expect("withdraw");

    // Assert
    refused_within(&app, &disabled, "UNAUTHENTICATED", Duration::from_secs(1)).await;
    refused_within(&app, &withdrawn, "FORBIDDEN", Duration::from_secs(1)).await;
}

async fn logout_removes_a_token_from_the_index_and_the_index_is_capped(backend: Backend) {
    // Arrange
    let app = spawn_app_with(backend, |config| config.tokens_per_subject_max = 3).await;
    app.create_user(USER, PASSWORD, &["blacklist:read"], None, None)
        .await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(app.login(USER, PASSWORD).await);
    }

    // Act
    let answers = answers_with(std::slice::from_ref(&app), &tokens).await;
    for token in &tokens[2..] {
        let body = app.gql("mutation { logout }", json!({}), Some(token)).await;
        assert_eq!(body["data"]["logout"], true, "{body}");
    }

    // Assert: the two oldest died when the third and fourth logins came; the index holds at
    // most three entries and, with Redis, is empty once the rest logged out.
    for body in &answers[..2] {
        assert_eq!(error_code(body), "UNAUTHENTICATED", "{body}");
    }
    for body in &answers[2..] {
        assert_eq!(body["data"]["blacklistEntries"]["totalCount"], 0, "{body}");
    }
    if backend != Backend::Sqlite {
        assert_eq!(redis_index_size(&app).await, 0);
    }
}

/// How many entries the Redis token index of `USER` holds.
async fn redis_index_size(app: &TestApp) -> u64 {
    use deadpool_redis::redis;
    let user = api::db::user::find_by_username(&app.db, USER)
        .await
        .expect("lookup")
        .expect("the user");
    let client = redis::Client::open(crate::helpers::redis_url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    redis::cmd("ZCARD")
        .arg(format!(
            "{}subject-tokens:{}",
            app.config.redis_key_prefix,
            user.id.simple()
        ))
        .query_async(&mut conn)
        .await
        .expect("ZCARD")
}

crate::on_backends!([sqlite, postgres] [
    logins_racing_a_disable_get_no_token_that_outlives_it,
    logins_racing_a_new_password_get_no_token_that_outlives_it,
    logins_racing_a_withdrawn_permission_get_no_token_that_keeps_it,
    logout_removes_a_token_from_the_index_and_the_index_is_capped,
]);

mod embedded {
    use super::cli_changes_reach_an_embedded_servers_tokens_within_a_second;

    crate::on_backends!([sqlite][cli_changes_reach_an_embedded_servers_tokens_within_a_second]);
}
