//! Password login: the one place a username and password become a principal and a token.

use super::{Principal, PrincipalKind, session::IssuedToken};
use crate::{db, error::ApiError, state::AppState};

pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(IssuedToken, Principal), ApiError> {
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
        _ => return Err(ApiError::InvalidCredentials),
    };
    let principal = Principal {
        subject_id: user.id,
        permissions: db::user::permissions(&state.db, user.id).await?,
        username: user.username,
        display_name: user.display_name,
        kind: PrincipalKind::User,
        org_code: user.org_code,
        company_code: user.company_code,
    };
    let issued = state.sessions.issue(principal.clone(), None).await?;
    tracing::info!(username = %principal.username, "login");
    Ok((issued, principal))
}
