//! Liveness and readiness probes.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::server::HttpState;

/// GET /healthz: the process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// GET /readyz: the database and the token store both answer; 503 names the one that does not.
pub async fn readyz(State(http): State<Arc<HttpState>>) -> impl IntoResponse {
    let timeout = http.dependency_timeout;
    let database = tokio::time::timeout(timeout, http.state.db.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    let token_store = tokio::time::timeout(timeout, http.state.sessions.store().ping())
        .await
        .is_ok_and(|r| r.is_ok());
    let status = if database && token_store {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(json!({ "database": word(database), "tokenStore": word(token_store) })),
    )
}
