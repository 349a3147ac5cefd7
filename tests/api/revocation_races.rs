//! Revocation that cannot be raced: logins in flight while an account is disabled, given a new
//! password or loses a permission get no token that outlives the change; changes made by another
//! process reach an embedded server's in-process store; the per-subject token index stays bounded.

use std::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use api::service::accounts;
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
/// Rounds of two role changes racing each other.
const ROUNDS: usize = 200;

/// A server (two with Redis, as behind a balancer) whose password checks take real time, so a
/// change can land while a login is between its check and its token.
async fn spawn_racetrack(backend: Backend) -> Vec<TestApp> {
    let app = spawn_app_with(backend, |config| {
        behind_loopback_proxy(config);
        config.password_hash_memory_kib = 8 * 1024;
        config.password_hash_iterations = 3;
        // Full speed even while the rest of the suite keeps the machine busy.
        config.password_hash_busy_share = 1.0;
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

/// Logs in over and over from `RACERS` clients until `stop`, counting tokens in `obtained`;
/// returns every token obtained.
async fn race_logins(apps: &[TestApp], stop: &AtomicBool, obtained: &AtomicUsize) -> Vec<String> {
    let racers = (0..RACERS).map(|n| {
        let app = &apps[n % apps.len()];
        async move {
            let mut tokens = Vec::new();
            let from = format!("198.51.100.{}", n + 1);
            while !stop.load(Ordering::SeqCst) {
                let body = app
                    .gql_with_header(
                        LOGIN,
                        json!({ "u": USER, "p": PASSWORD }),
                        "X-Forwarded-For",
                        &from,
                    )
                    .await;
                match body["data"]["login"]["token"].as_str() {
                    Some(token) => {
                        tokens.push(token.to_owned());
                        obtained.fetch_add(1, Ordering::SeqCst);
                    }
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
/// The racers stop once the change has returned, and each finishes the login it has in flight.
async fn tokens_racing<F, Fut>(apps: &[TestApp], change: F) -> Vec<String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stop = AtomicBool::new(false);
    let obtained = AtomicUsize::new(0);
    let (tokens, ()) = tokio::join!(race_logins(apps, &stop, &obtained), async {
        // Some logins succeed first, so the change meets tokens of every age.
        let started = Instant::now();
        while obtained.load(Ordering::SeqCst) < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no login succeeded"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        change().await;
        stop.store(true, Ordering::SeqCst);
    });
    tokens
}

/// The account changes raced, as the CLI makes them.
#[derive(Clone, Copy)]
enum Change {
    Disable,
    NewPassword,
    WithdrawPermission,
}

/// Races logins against `change` and asserts that every token obtained, before, during or after
/// it, is refused with `code` on the next request.
async fn assert_no_token_outlives(backend: Backend, change: Change, code: &str) {
    // Arrange
    let apps = spawn_racetrack(backend).await;
    let cli = apps[0].cli_state().await;

    // Act
    let tokens = tokens_racing(&apps, || async {
        match change {
            Change::Disable => accounts::disable_user(&cli, USER).await.map(|_| ()),
            Change::NewPassword => accounts::change_password(&cli, USER, "a-brand-new-password")
                .await
                .map(|_| ()),
            Change::WithdrawPermission => {
                accounts::revoke_role(&cli, ROLE, &["blacklist:read".to_owned()])
                    .await
                    .map(|_| ())
            }
        }
        .expect("the change");
    })
    .await;
    let requests = tokens
        .iter()
        .enumerate()
        .map(|(n, token)| apps[n % apps.len()].gql(LIST, json!({}), Some(token)));
    let answers: Vec<Value> = join_all(requests).await;

    // Assert
    for body in &answers {
        assert_eq!(
            error_code(body),
            code,
            "a token outlived the change: {body}"
        );
    }
}

async fn logins_racing_a_disable_get_no_token_that_outlives_it(backend: Backend) {
    assert_no_token_outlives(backend, Change::Disable, "UNAUTHENTICATED").await;
}

async fn logins_racing_a_new_password_get_no_token_that_outlives_it(backend: Backend) {
    assert_no_token_outlives(backend, Change::NewPassword, "UNAUTHENTICATED").await;
}

async fn logins_racing_a_withdrawn_permission_get_no_token_that_keeps_it(backend: Backend) {
    assert_no_token_outlives(backend, Change::WithdrawPermission, "FORBIDDEN").await;
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
    let answers = join_all(
        tokens
            .iter()
            .map(|token| app.gql(LIST, json!({}), Some(token))),
    )
    .await;
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

/// Two administrators change the same role at once, round after round: whichever commits last,
/// the live token ends up with what the database says, never with what the other read before.
async fn concurrent_role_changes_leave_live_tokens_as_the_database_says(backend: Backend) {
    // Arrange
    let apps = spawn_racetrack(backend).await;
    let admin = apps[0].admin_token().await;
    let token = apps[0].login(USER, PASSWORD).await;
    let set = "mutation($n: String!, $p: [String!]!) { updateRole(name: $n, input: { permissions: $p }) { name } }";
    let wide = json!({ "n": ROLE, "p": ["blacklist:read", "audit:read"] });
    let narrow = json!({ "n": ROLE, "p": ["blacklist:read"] });

    for round in 0..ROUNDS {
        // Act
        let (first, second) = if round % 2 == 0 {
            (&wide, &narrow)
        } else {
            (&narrow, &wide)
        };
        let (a, b) = tokio::join!(
            apps[0].gql(set, first.clone(), Some(&admin)),
            apps[apps.len() - 1].gql(set, second.clone(), Some(&admin)),
        );
        assert!(a["errors"].is_null() && b["errors"].is_null(), "{a} {b}");

        // Assert
        let roles = apps[0]
            .gql("{ roles { name permissions } }", json!({}), Some(&admin))
            .await;
        let stored = roles["data"]["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|role| role["name"] == ROLE)
            .expect("the role")["permissions"]
            .clone();
        let me = apps[0]
            .gql("{ me { permissions } }", json!({}), Some(&token))
            .await;
        assert_eq!(me["data"]["me"]["permissions"], stored, "round {round}");
    }
}

crate::on_backends!([sqlite, postgres] [
    concurrent_role_changes_leave_live_tokens_as_the_database_says,
    logins_racing_a_disable_get_no_token_that_outlives_it,
    logins_racing_a_new_password_get_no_token_that_outlives_it,
    logins_racing_a_withdrawn_permission_get_no_token_that_keeps_it,
    logout_removes_a_token_from_the_index_and_the_index_is_capped,
]);

mod embedded {
    use super::cli_changes_reach_an_embedded_servers_tokens_within_a_second;

    crate::on_backends!([sqlite][cli_changes_reach_an_embedded_servers_tokens_within_a_second]);
}
