//! Logging in: the one place a password or a client secret becomes a principal and a token.

use std::{net::IpAddr, time::Duration};

use super::{Principal, PrincipalKind, session::IssuedToken, throttle::AttemptKeys};
use crate::{db, error::ApiError, state::AppState};

/// A person logs in with a username and password; the token lives TOKEN_MAX_TTL_SECS at most.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<(IssuedToken, Principal), ApiError> {
    let keys = AttemptKeys::new("user", username, address);
    state.throttle.check(&keys).await?;
    let user = db::user::find_by_username(&state.db, username)
        .await?
        .filter(|user| user.enabled);
    // Unknown and disabled users still pay for a hash verification, so timing tells nothing.
    let verified = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            state.throttle.record_failure(&keys).await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    state.throttle.record_success(&keys).await?;
    let principal = Principal {
        subject_id: user.id,
        permissions: db::user::permissions(&state.db, user.id).await?,
        username: user.username,
        display_name: user.display_name,
        kind: PrincipalKind::User,
        org_code: user.org_code,
        company_code: user.company_code,
    };
    let issued = state
        .sessions
        .issue(principal.clone(), state.sessions.user_token_lifetime())
        .await?;
    tracing::info!(username = %principal.username, "login");
    Ok((issued, principal))
}

/// A job or service logs in with its client id and secret for a short-lived token of its own.
pub async fn service_login(
    state: &AppState,
    client_id: &str,
    client_secret: &str,
    lifetime: Duration,
    address: Option<IpAddr>,
) -> Result<(IssuedToken, Principal), ApiError> {
    let keys = AttemptKeys::new("service", client_id, address);
    state.throttle.check(&keys).await?;
    let account = db::service_account::find_by_client_id(&state.db, client_id)
        .await?
        .filter(|a| a.enabled);
    let verified = state
        .passwords
        .verify(
            client_secret,
            account.as_ref().map(|a| a.secret_hash.as_str()),
        )
        .await?;
    let account = match account {
        Some(account) if verified => account,
        _ => {
            state.throttle.record_failure(&keys).await?;
            return Err(ApiError::InvalidClientCredentials);
        }
    };
    state.throttle.record_success(&keys).await?;
    let principal = Principal {
        subject_id: account.id,
        permissions: db::service_account::permissions(&state.db, account.id).await?,
        username: account.client_id,
        display_name: None,
        kind: PrincipalKind::Service,
        org_code: None,
        company_code: None,
    };
    let issued = state.sessions.issue(principal.clone(), lifetime).await?;
    tracing::info!(client_id = %principal.username, ttl_secs = lifetime.as_secs(), "service login");
    Ok((issued, principal))
}
