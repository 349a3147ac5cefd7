//! Ending sessions: a caller's own logout, and an administrator revoking someone's tokens. Both
//! take effect on every instance at once and are recorded in the audit log.

use serde_json::json;

use crate::{
    auth::{Principal, name, permission, request::Session},
    db::{
        self,
        audit_log::{self, Event},
    },
    error::ApiError,
    service::accounts,
    state::AppState,
};

pub async fn logout(state: &AppState, session: &Session) -> Result<(), ApiError> {
    state
        .sessions
        .revoke(session.jti, session.principal.subject_id)
        .await?;
    let by = session.principal.audit();
    audit_log::record(&state.db, Event::new("logout", Some(&by))).await
}

/// Kills every live token of `username`; returns how many were alive. A user out of `by`'s reach
/// for `token:revoke` (another organisation's, for an `ORG` role) is NOT_FOUND, as one that
/// does not exist.
pub async fn revoke_tokens(
    state: &AppState,
    username: &str,
    by: &Principal,
) -> Result<u64, ApiError> {
    let reach = by.reach(permission::TOKEN_REVOKE);
    let target = db::user::find_by_username(&state.db, &name::canonical(username))
        .await?
        .filter(|user| reach.contains(user.org_code.as_deref()))
        .ok_or(ApiError::NotFound { what: "user" })?;
    let revoked = accounts::revoke_user_tokens(state, target.id).await?;
    let by = by.audit();
    let event = Event::new("tokens.revoke", Some(&by))
        .subject(username)
        .detail(json!({ "revoked": revoked }));
    audit_log::record(&state.db, event).await?;
    Ok(revoked)
}
