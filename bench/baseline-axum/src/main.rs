//! Baseline (a): the server's point query as a hand-written axum handler, no GraphQL.
//!
//! `GET /blacklist-entries/{id}` with `Authorization: Bearer <token>`: verify, GETEX, select, JSON.

use std::process::ExitCode;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use baseline::{BLACKLIST_READ, Baseline, Config};
use serde::Serialize;
use uuid::Uuid;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    id: Uuid,
    ip: String,
    remark: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

async fn blacklist_entry(
    State(baseline): State<Baseline>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Response {
    match baseline.tokens.authenticate(&headers).await {
        Some(principal) if principal.has_permission(BLACKLIST_READ) => {}
        Some(_) => return StatusCode::FORBIDDEN.into_response(),
        None => return StatusCode::UNAUTHORIZED.into_response(),
    }
    match baseline.find_entry(id).await {
        Ok(Some(entry)) => Json(Entry {
            id: entry.id,
            ip: entry.ip,
            remark: entry.remark,
            created_at: entry.created_at.to_utc(),
        })
        .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "select failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let baseline = Baseline::connect(&config).await?;
    let router = Router::new()
        .route("/blacklist-entries/{id}", get(blacklist_entry))
        .with_state(baseline);
    baseline::serve(&config, router).await
}

#[tokio::main]
async fn main() -> ExitCode {
    baseline::main(run).await
}
