//! The router and the serving loop, with request ids and graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, middleware, routing::get};
use ipnet::IpNet;
use tokio::{net::TcpListener, sync::Semaphore};
use tower_http::catch_panic::CatchPanicLayer;

use super::{
    enforce,
    graphql::{self, Limits},
    health,
    request_id::RequestIds,
};
use crate::{
    config::Config,
    graphql::{
        documents::DocumentCache,
        schema::{ApiSchema, build_schema},
    },
    state::AppState,
};

/// Axum state, shared behind one `Arc`: axum clones the state for every extractor, and one
/// reference count is far cheaper than the dozen inside.
pub struct HttpState {
    pub schema: ApiSchema,
    pub limits: Limits,
    pub trusted_proxies: Arc<[IpNet]>,
    pub documents: DocumentCache,
    pub state: AppState,
    pub dependency_timeout: Duration,
    pub request_ids: RequestIds,
    /// Largest accepted request body, checked where the body is read (only /graphql reads one).
    pub body_limit: usize,
    /// Work on what the server has not vetted yet (decoding a large body, parsing a document not
    /// in the cache) runs on all cores but one, so a flood of it leaves a core to cached requests.
    pub unvetted: Semaphore,
}

pub fn router(state: AppState, config: &Config) -> Router {
    let http = Arc::new(HttpState {
        schema: build_schema(state.clone(), config),
        limits: Limits {
            max_aliases: config.query_max_aliases,
            max_batch: config.batch_max_size,
            timeout: config.request_timeout(),
            playground: config.playground_enabled(),
            introspection: config.introspection_enabled(),
            max_tokens: config.query_max_tokens,
            max_statements: config.query_max_db_statements,
        },
        trusted_proxies: config.trusted_proxies.clone().into(),
        documents: DocumentCache::new(config.document_cache_bytes),
        state,
        dependency_timeout: config.dependency_timeout(),
        request_ids: RequestIds::new(),
        body_limit: config.request_body_limit_bytes,
        unvetted: Semaphore::new(
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .saturating_sub(1)
                .max(1),
        ),
    });
    Router::new()
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::execute)
                .layer(middleware::map_response(graphql::no_store)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(middleware::from_fn_with_state(
            http.clone(),
            enforce::front_door,
        ))
        .with_state(http)
        .layer(CatchPanicLayer::custom(graphql::panic_response))
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address is what the blacklist checks (see `client_ip`).
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
