//! Baseline (b): the server's point query through a minimal, idiomatic async-graphql schema.
//!
//! The handler authenticates once and puts the principal in the request data; one guarded
//! resolver does the select. No extensions, limits or error codes: the bare GraphQL layer.

use std::process::ExitCode;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Guard, ID, Object, Schema, SimpleObject,
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{Router, extract::State, http::HeaderMap, routing::post};
use baseline::{BLACKLIST_READ, Baseline, Config, Principal};
use chrono::{DateTime, Utc};
use uuid::Uuid;

type BaselineSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

#[derive(SimpleObject)]
struct BlacklistEntry {
    id: ID,
    ip: String,
    remark: Option<String>,
    created_at: DateTime<Utc>,
}

struct RequirePermission(&'static str);

impl Guard for RequirePermission {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match ctx.data_opt::<Principal>() {
            Some(principal) if principal.has_permission(self.0) => Ok(()),
            Some(_) => Err("forbidden".into()),
            None => Err("authentication required".into()),
        }
    }
}

struct QueryRoot;

#[Object]
impl QueryRoot {
    #[graphql(guard = "RequirePermission(BLACKLIST_READ)")]
    async fn blacklist_entry(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<BlacklistEntry>> {
        let baseline = ctx.data::<Baseline>()?;
        let id = Uuid::parse_str(&id)?;
        Ok(baseline.find_entry(id).await?.map(|entry| BlacklistEntry {
            id: ID(entry.id.to_string()),
            ip: entry.ip,
            remark: entry.remark,
            created_at: entry.created_at.to_utc(),
        }))
    }
}

#[derive(Clone)]
struct AppState {
    schema: BaselineSchema,
    baseline: Baseline,
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let mut request = request.into_inner();
    if let Some(principal) = state.baseline.tokens.authenticate(&headers).await {
        request = request.data(principal);
    }
    state.schema.execute(request).await.into()
}

async fn run(config: Config) -> anyhow::Result<()> {
    let baseline = Baseline::connect(&config).await?;
    let schema = Schema::build(QueryRoot, EmptyMutation, EmptySubscription)
        .data(baseline.clone())
        .finish();
    let router = Router::new()
        .route("/graphql", post(graphql))
        .with_state(AppState { schema, baseline });
    baseline::serve(&config, router).await
}

#[tokio::main]
async fn main() -> ExitCode {
    baseline::main(run).await
}
