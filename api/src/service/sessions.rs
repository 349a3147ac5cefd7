//! Ending sessions: a caller's own logout, and an administrator revoking someone's tokens. Both
//! take effect on every instance at once and are recorded in the audit log.

use serde_json::json;

use crate::{
    auth::request::Session,
    db::{
        audit::Audit,
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

/// Kills every live token of `username`; returns how many were alive.
pub async fn revoke_tokens(state: &AppState, username: &str, by: &Audit) -> Result<u64, ApiError> {
    let revoked = accounts::revoke_user_tokens(state, username).await?;
    let event = Event::new("tokens.revoke", Some(by))
        .subject(username)
        .detail(json!({ "revoked": revoked }));
    audit_log::record(&state.db, event).await?;
    Ok(revoked)
}
