//! The router and the serving loop, with request ids and graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, http::Request, middleware, routing::get};
use ipnet::IpNet;
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};

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
}

pub fn router(state: AppState, config: &Config) -> Router {
    let http = Arc::new(HttpState {
        schema: build_schema(state.clone(), config),
        limits: Limits {
            max_aliases: config.query_max_aliases,
            max_batch: config.batch_max_size,
            timeout: config.request_timeout(),
            playground: config.playground,
            introspection: config.introspection,
        },
        trusted_proxies: config.trusted_proxies.clone().into(),
        documents: DocumentCache::default(),
        state,
        dependency_timeout: config.dependency_timeout(),
    });
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::execute))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        // Runs before every route: a blacklisted client reaches nothing.
        .layer(middleware::from_fn_with_state(http.clone(), enforce::refuse_blacklisted))
        .with_state(http)
        .layer(RequestBodyLimitLayer::new(config.request_body_limit_bytes))
        .layer(middleware::map_response(graphql::shape_too_large))
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            // Every log line of a request, internal errors included, carries its id.
            let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok());
            tracing::info_span!("request", id = id.unwrap_or_default(), method = %request.method(), path = request.uri().path())
        }))
        .layer(SetRequestIdLayer::x_request_id(RequestIds::new()))
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
