//! Logging in: the one place a password or a client secret becomes a principal and a token.
//!
//! The order is what makes it hold under attack: the attempt is reserved before anything is
//! looked up or hashed (see `throttle`), and the token is recorded only if the account was not
//! revoked or changed since its epoch was read, and the account is read afresh after that epoch,
//! so a login racing `user disable`, `user passwd` or a withdrawn role never yields a token that
//! outlives the change.

use std::{future::Future, net::IpAddr, time::Duration};

use entity::{service_account, user};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::{
        Principal, PrincipalKind, name,
        session::IssuedToken,
        throttle::{Attempt, AttemptKind},
    },
    db::{
        self,
        audit_log::{self, Event},
    },
    error::ApiError,
    state::AppState,
};

/// How often a login reads the account afresh when it keeps changing under it.
const ISSUE_TRIES: usize = 3;

/// A person logs in with a username and password; the token lives TOKEN_MAX_TTL_SECS at most.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(IssuedToken, Principal), ApiError> {
    let username = name::canonical(username);
    let user = check_secret(
        state,
        AttemptKind::User,
        &username,
        password,
        address,
        db::user::find_by_username,
        |user: &user::Model| user.enabled.then_some(user.password_hash.as_str()),
    )
    .await?
    .ok_or(ApiError::InvalidCredentials)?;
    let lifetime = state.sessions.user_token_lifetime();
    let issued = issue(state, user.id, lifetime, || async {
        let Some(current) = db::user::find_by_id(&state.db, user.id).await? else {
            return Ok(None);
        };
        if !current.enabled || current.password_hash != user.password_hash {
            return Ok(None);
        }
        let grants = db::user::grants(&state.db, current.id).await?;
        Ok(Some(Principal {
            subject_id: current.id,
            permissions: grants.permissions,
            org_only: grants.org_only,
            username: current.username,
            display_name: current.display_name,
            kind: PrincipalKind::User,
            org_code: current.org_code,
            company_code: current.company_code,
        }))
    })
    .await?
    .ok_or(ApiError::InvalidCredentials)?;
    tracing::info!(username = ?issued.1.username, address = ?address, "login");
    record_login(state, "login", &issued, address).await?;
    Ok(issued)
}

/// A job or service logs in with its client id and secret for a short-lived token of its own.
pub async fn service_login(
    state: &AppState,
    client_id: &str,
    client_secret: &str,
    lifetime: Duration,
    address: Option<IpAddr>,
) -> Result<(IssuedToken, Principal), ApiError> {
    let client_id = name::canonical(client_id);
    let account = check_secret(
        state,
        AttemptKind::Service,
        &client_id,
        client_secret,
        address,
        db::service_account::find_by_client_id,
        |account: &service_account::Model| account.enabled.then_some(account.secret_hash.as_str()),
    )
    .await?
    .ok_or(ApiError::InvalidClientCredentials)?;
    let issued = issue(state, account.id, lifetime, || async {
        let Some(current) = db::service_account::find_by_id(&state.db, account.id).await? else {
            return Ok(None);
        };
        if !current.enabled || current.secret_hash != account.secret_hash {
            return Ok(None);
        }
        Ok(Some(Principal {
            subject_id: current.id,
            permissions: db::service_account::permissions(&state.db, current.id).await?,
            org_only: Vec::new(),
            username: current.client_id,
            display_name: None,
            kind: PrincipalKind::Service,
            org_code: None,
            company_code: None,
        }))
    })
    .await?
    .ok_or(ApiError::InvalidClientCredentials)?;
    tracing::info!(client_id = ?issued.1.username, ttl_secs = lifetime.as_secs(), address = ?address, "service login");
    record_login(state, "service_login", &issued, address).await?;
    Ok(issued)
}

/// Checks a presented secret under a reserved attempt. Returns the account when the secret is
/// right, `None` when it is wrong (or the account unknown or disabled: the same hash time is
/// spent, so timing tells nothing); only a wrong secret stays counted against the attempt.
async fn check_secret<'s, T, F, Fut>(
    state: &'s AppState,
    kind: AttemptKind,
    name: &'s str,
    secret: &str,
    address: Option<IpAddr>,
    find: F,
    stored_hash: impl Fn(&T) -> Option<&str>,
) -> Result<Option<T>, ApiError>
where
    F: FnOnce(&'s sea_orm::DatabaseConnection, &'s str) -> Fut,
    Fut: Future<Output = Result<Option<T>, ApiError>>,
{
    let attempt = state.throttle.begin(kind, name, address).await?;
    // A name no account can have never reaches the database (nor its collation).
    let found = if name::is_valid(name) {
        find(&state.db, name).await
    } else {
        Ok(None)
    };
    let account = match found {
        Ok(account) => account,
        Err(error) => return given_back(attempt, error).await,
    };
    let stored = account.as_ref().and_then(&stored_hash);
    match state.passwords.verify(secret, stored).await {
        Ok(true) => {
            attempt.release().await?;
            Ok(account)
        }
        Ok(false) => {
            tracing::warn!(kind = ?kind, name = ?name, address = ?address, "login failed: wrong credentials");
            let action = match kind {
                AttemptKind::User => "login.failed",
                AttemptKind::Service => "service_login.failed",
            };
            let event = Event::new(action, None)
                .subject(name)
                .detail(json!({ "address": address }));
            audit_log::record(&state.db, event).await?;
            Ok(None)
        }
        Err(error) => given_back(attempt, error).await,
    }
}

/// A login that got its token, with the address it came from (never the secret).
/// Records a login whose token is issued. The token lives in the store, the line in the
/// database: when the line cannot be written the token is ended again, so that no login goes
/// unrecorded and no token outlives a login that answered an error.
async fn record_login(
    state: &AppState,
    action: &'static str,
    (issued, principal): &(IssuedToken, Principal),
    address: Option<IpAddr>,
) -> Result<(), ApiError> {
    let by = principal.audit();
    let event = Event::new(action, Some(&by)).detail(json!({ "address": address }));
    let Err(error) = audit_log::record(&state.db, event).await else {
        return Ok(());
    };
    if let Err(revoke) = state
        .sessions
        .revoke(issued.jti, principal.subject_id)
        .await
    {
        tracing::error!(%revoke, "a login whose audit line failed could not end its token");
    }
    Err(error)
}

/// An attempt whose secret was never checked does not count as a failure.
async fn given_back<T>(attempt: Attempt, error: ApiError) -> Result<T, ApiError> {
    attempt.release().await?;
    Err(error)
}

/// Issues a token for the subject once its account, read after the subject's epoch by `current`
/// (`None`: no longer allowed to log in), could be recorded under that epoch.
async fn issue<F, Fut>(
    state: &AppState,
    subject: Uuid,
    lifetime: Duration,
    current: F,
) -> Result<Option<(IssuedToken, Principal)>, ApiError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<Principal>, ApiError>>,
{
    for _ in 0..ISSUE_TRIES {
        let epoch = state.sessions.epoch(subject).await?;
        let Some(principal) = current().await? else {
            return Ok(None);
        };
        if let Some(issued) = state
            .sessions
            .issue(principal.clone(), lifetime, epoch)
            .await?
        {
            return Ok(Some((issued, principal)));
        }
    }
    Err(ApiError::Conflict(
        "the account changed while logging in; try again".to_owned(),
    ))
}
