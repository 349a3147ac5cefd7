//! Login throttling under attack: parallel bursts, one host's many IPv6 addresses, floods that
//! would starve other callers, and one name under many spellings.
//!
//! Every wrong password that is actually checked is answered `UNAUTHENTICATED`; an attempt refused
//! before its hash ran is answered `TOO_MANY_REQUESTS`. So counting the answers counts the
//! verifications.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, behind_loopback_proxy, error_code, spawn_app_alone_with, spawn_app_with,
};

const SERVICE_LOGIN: &str = "mutation($id: String!, $secret: String!) {
    serviceLogin(clientId: $id, clientSecret: $secret) { token }
}";
/// LOGIN_MAX_FAILURES's default.
const MAX_FAILURES: usize = 5;
const USER: &str = "alice";
const PASSWORD: &str = "alice-password";
const BURST: usize = 100;

/// A server with one user, alone: a burst of a hundred logins against a server that shares the
/// cores with the rest of the suite can meet a dependency timeout, which would hide the property.
async fn spawn_target(backend: Backend) -> TestApp {
    let app = spawn_app_alone_with(backend, behind_loopback_proxy).await;
    app.create_user(USER, PASSWORD, &["blacklist:read"], None, None)
        .await;
    app
}

/// What the answers to a burst were: checked and wrong, refused unchecked, and tokens issued.
#[derive(Debug, Default)]
struct Tally {
    verified_wrong: usize,
    refused: usize,
    tokens: usize,
}

impl Tally {
    fn of(answers: &[Value]) -> Self {
        let mut tally = Self::default();
        for body in answers {
            if body["data"]
                .as_object()
                .is_some_and(|data| data.values().any(|payload| payload["token"].is_string()))
            {
                tally.tokens += 1;
                continue;
            }
            match error_code(body) {
                "UNAUTHENTICATED" => tally.verified_wrong += 1,
                "TOO_MANY_REQUESTS" => {
                    assert!(
                        body["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1),
                        "{body}"
                    );
                    tally.refused += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        tally
    }
}

/// Fires `BURST` wrong logins at once (the right password at position 97, when given), from
/// `from(n)`, and tallies the answers.
async fn burst(app: &TestApp, from: impl Fn(usize) -> String, right_password_at_97: bool) -> Tally {
    let attempts = (0..BURST).map(|n| {
        let password = if right_password_at_97 && n == 96 {
            PASSWORD
        } else {
            "wrong-password"
        };
        let from = from(n);
        async move { app.login_from(&from, USER, password).await }
    });
    Tally::of(&join_all(attempts).await)
}

/// A parallel burst checks no more than the limit, however its attempts interleave; once the
/// limit is used up (one by one, each attempt checked), a burst with the right password in it
/// checks nothing and gets no token.
async fn assert_bursts_check_at_most(
    app: &TestApp,
    from: impl Fn(usize) -> String + Copy,
    limit: usize,
) {
    let first = burst(app, from, false).await;
    assert_eq!(first.tokens, 0, "{first:?}");
    assert!(first.verified_wrong <= limit, "{first:?}, limit {limit}");
    let mut verified = first.verified_wrong;
    while verified < limit {
        let body = app.login_from(&from(0), USER, "wrong-password").await;
        assert_eq!(
            error_code(&body),
            "UNAUTHENTICATED",
            "below the limit: {body}"
        );
        verified += 1;
    }
    let last = burst(app, from, true).await;
    assert_eq!(
        (last.tokens, last.verified_wrong, last.refused),
        (0, 0, BURST),
        "after the limit nothing is checked"
    );
}

async fn parallel_wrong_logins_from_one_address_are_checked_at_most_the_limit(backend: Backend) {
    let app = spawn_target(backend).await;
    assert_bursts_check_at_most(&app, |_| "198.51.100.7".to_owned(), MAX_FAILURES).await;
}

async fn parallel_wrong_logins_from_many_addresses_are_checked_at_most_the_name_ceiling(
    backend: Backend,
) {
    let app = spawn_target(backend).await;
    let ceiling = 10 * MAX_FAILURES;
    // Each attempt from an address of its own, so only the per-name ceiling can refuse.
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let from = |_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256)
    };
    assert_bursts_check_at_most(&app, &from, ceiling).await;
}

async fn parallel_wrong_service_logins_are_checked_at_most_the_limit(backend: Backend) {
    let app = spawn_target(backend).await;
    let secret = api::service::accounts::create_service(
        &app.cli_state().await,
        "exporter",
        &["blacklist:read".to_owned()],
    )
    .await
    .expect("create the service account");
    let attempts = (0..BURST).map(|n| {
        let secret = if n == 96 {
            secret.as_str()
        } else {
            "wrong-secret"
        };
        app.gql_with_header(
            SERVICE_LOGIN,
            json!({ "id": "exporter", "secret": secret }),
            "X-Forwarded-For",
            "198.51.100.7",
        )
    });
    let first = Tally::of(&join_all(attempts).await);
    assert!(first.verified_wrong <= MAX_FAILURES, "{first:?}");
    // Use the limit up, then the right secret in a burst gets nothing.
    let mut verified = first.verified_wrong;
    for _ in 0..20 {
        if verified >= MAX_FAILURES {
            break;
        }
        let body = app
            .gql_with_header(
                SERVICE_LOGIN,
                json!({ "id": "exporter", "secret": "wrong-secret" }),
                "X-Forwarded-For",
                "198.51.100.7",
            )
            .await;
        verified += usize::from(error_code(&body) == "UNAUTHENTICATED");
    }
    let last = (0..BURST).map(|_| {
        app.gql_with_header(
            SERVICE_LOGIN,
            json!({ "id": "exporter", "secret": secret }),
            "X-Forwarded-For",
            "198.51.100.7",
        )
    });
    let last = Tally::of(&join_all(last).await);
    assert_eq!((last.tokens, last.refused), (0, BURST), "{last:?}");
}

async fn one_ipv6_host_cannot_escape_the_address_limit_by_changing_address(backend: Backend) {
    // Arrange: failures from five addresses of one /64, each guessing another name.
    let app = spawn_target(backend).await;
    for n in 1..=MAX_FAILURES {
        let body = app
            .login_from(&format!("2001:db8:1:2::{n:x}"), &format!("guess{n}"), "x")
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }

    // Act
    let same_network = app.login_from("2001:db8:1:2:ffff::1", USER, PASSWORD).await;
    let next_network = app.login_from("2001:db8:1:3::1", USER, PASSWORD).await;

    // Assert
    assert_eq!(
        error_code(&same_network),
        "TOO_MANY_REQUESTS",
        "{same_network}"
    );
    assert_eq!(
        next_network["data"]["login"]["principal"]["username"], USER,
        "{next_network}"
    );
}

async fn a_flood_from_one_address_does_not_starve_a_login_from_another(backend: Backend) {
    // Arrange: real argon2 cost, so the flood would take seconds to hash if it were queued; no
    // other test beside it, so the owner's wait measures the flood alone.
    let app = spawn_app_alone_with(backend, |config| {
        behind_loopback_proxy(config);
        config.password_hash_memory_kib = 19 * 1024;
        config.password_hash_iterations = 2;
    })
    .await;
    app.create_user(USER, PASSWORD, &[], None, None).await;
    let app = &app;
    let flood = (0..200).map(|n| async move {
        app.login_from("203.0.113.66", &format!("victim{n}"), "x")
            .await
    });

    // Act: the owner logs in while the flood is in the air.
    let (flood, (owner, took)) = tokio::join!(join_all(flood), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let owner = app.login_from("198.51.100.20", USER, PASSWORD).await;
        (owner, started.elapsed())
    });

    // Assert
    let tally = Tally::of(&flood);
    assert!(tally.verified_wrong <= MAX_FAILURES, "{tally:?}");
    assert_eq!(
        owner["data"]["login"]["principal"]["username"], USER,
        "{owner}"
    );
    assert!(took < Duration::from_secs(3), "the owner waited {took:?}");
}

async fn a_full_hashing_queue_answers_at_once(backend: Backend) {
    // Arrange: one hashing thread, room for one waiting check, real argon2 cost; timed, so alone.
    let app = spawn_app_alone_with(backend, |config| {
        behind_loopback_proxy(config);
        config.password_hash_memory_kib = 19 * 1024;
        config.password_hash_iterations = 4;
        config.password_hash_concurrency = Some(1);
        config.password_hash_queue = 1;
    })
    .await;
    // Distinct names from distinct addresses: nothing but the queue can refuse them.
    let app = &app;
    let attempts = (0..40).map(|n| async move {
        let started = Instant::now();
        let body = app
            .login_from(&format!("198.51.100.{}", n + 1), &format!("user{n}"), "x")
            .await;
        (body, started.elapsed())
    });

    // Act
    let answers = join_all(attempts).await;

    // Assert
    let refused: Vec<Duration> = answers
        .iter()
        .filter(|(body, _)| error_code(body) == "TOO_MANY_REQUESTS")
        .map(|(body, took)| {
            assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1, "{body}");
            *took
        })
        .collect();
    assert!(!refused.is_empty(), "the queue never filled");
    let slowest_refusal = refused.iter().max().copied().unwrap_or_default();
    assert!(
        slowest_refusal < Duration::from_secs(2),
        "a refusal waited {slowest_refusal:?}"
    );
    for (body, _) in &answers {
        assert!(
            matches!(error_code(body), "UNAUTHENTICATED" | "TOO_MANY_REQUESTS"),
            "{body}"
        );
    }
}

/// One canonical name: spellings that fold to it log in as it and share its counter; spellings
/// that do not (an accent) never match it, whatever the database's collation.
async fn spellings_of_a_name_are_one_account_with_one_counter(backend: Backend) {
    // Arrange: a generous per-address limit, so only the name's counter can refuse.
    let app = spawn_app_with(backend, |config| {
        behind_loopback_proxy(config);
        config.login_max_failures_per_address = Some(100);
    })
    .await;
    app.create_user(USER, PASSWORD, &[], None, None).await;
    let from = "198.51.100.9";

    // Act
    let accented = app.login_from("198.51.100.10", "álice", PASSWORD).await;
    let upper = app.login_from("198.51.100.11", " ALICE ", PASSWORD).await;
    let fullwidth = app
        .login_from("198.51.100.12", "ａｌｉｃｅ", PASSWORD)
        .await;
    for spelling in ["ALICE", "Alice", "alice ", "ａｌｉｃｅ", "\taLiCe"] {
        let body = app.login_from(from, spelling, "wrong-password").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let after_five_spellings = app.login_from(from, "alice", PASSWORD).await;

    // Assert
    assert_eq!(error_code(&accented), "UNAUTHENTICATED", "{accented}");
    for body in [&upper, &fullwidth] {
        assert_eq!(
            body["data"]["login"]["principal"]["username"], USER,
            "{body}"
        );
    }
    assert_eq!(
        error_code(&after_five_spellings),
        "TOO_MANY_REQUESTS",
        "{after_five_spellings}"
    );
}

crate::on_backends!([sqlite, postgres] [
    parallel_wrong_logins_from_one_address_are_checked_at_most_the_limit,
    parallel_wrong_logins_from_many_addresses_are_checked_at_most_the_name_ceiling,
    parallel_wrong_service_logins_are_checked_at_most_the_limit,
    one_ipv6_host_cannot_escape_the_address_limit_by_changing_address,
    a_flood_from_one_address_does_not_starve_a_login_from_another,
    a_full_hashing_queue_answers_at_once,
]);

/// Spellings matter most where a collation could fold them: MariaDB runs them too.
mod spellings {
    use super::spellings_of_a_name_are_one_account_with_one_counter;

    crate::on_backends!(
        [sqlite, postgres, mysql][spellings_of_a_name_are_one_account_with_one_counter]
    );
}
