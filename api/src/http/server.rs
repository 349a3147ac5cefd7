//! The router and the serving loop: the connection cap, and graceful shutdown.

use std::{future::Future, io, pin::pin, sync::Arc, time::Duration};

use axum::{Router, middleware, routing::get};
use ipnet::IpNet;
use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
};
use tower_http::catch_panic::CatchPanicLayer;

use super::{
    connection::{self, Timeouts},
    cors, enforce,
    graphql::{self, Limits},
    health, playground,
    request_id::RequestIds,
    websocket,
};
use crate::{
    config::{self, Config},
    graphql::{
        documents::DocumentCache,
        schema::{ApiSchema, build_schema},
        trusted::TrustedDocuments,
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
    /// TRUSTED_DOCUMENTS: what `documentId` and APQ hashes name, and in `enforced` mode all that runs.
    pub trusted: TrustedDocuments,
    pub state: AppState,
    pub dependency_timeout: Duration,
    pub request_ids: RequestIds,
    /// Largest accepted request body, checked where the body is read (only /graphql reads one).
    pub body_limit: usize,
    /// Work on what the server has not vetted yet (decoding a large body, parsing a document not
    /// in the cache) runs on all cores but one, so a flood of it leaves a core to cached requests.
    pub unvetted: Semaphore,
    pub websocket: WebSocketLimits,
}

/// The time limits of a subscription socket (see `websocket`).
#[derive(Debug, Clone, Copy)]
pub struct WebSocketLimits {
    /// WS_CONNECTION_INIT_TIMEOUT_MS.
    pub init_timeout: Duration,
    /// WS_TOKEN_RECHECK_MS.
    pub token_recheck: Duration,
}

pub fn router(state: AppState, config: &Config, trusted: TrustedDocuments) -> Router {
    let http = Arc::new(HttpState {
        schema: build_schema(state.clone(), config),
        limits: Limits {
            max_aliases: config.query_max_aliases,
            max_depth: config.query_max_depth,
            max_batch: config.batch_max_size,
            timeout: config.request_timeout(),
            playground: config.playground_enabled(),
            introspection: config.introspection_enabled(),
            max_tokens: config.query_max_tokens,
            max_statements: config.query_max_db_statements,
        },
        trusted_proxies: config.trusted_proxies.clone().into(),
        documents: DocumentCache::new(config.document_cache_bytes),
        trusted,
        state,
        dependency_timeout: config.dependency_timeout(),
        request_ids: RequestIds::new(),
        body_limit: config.request_body_limit_bytes,
        unvetted: Semaphore::new(config::cores_but_one()),
        websocket: WebSocketLimits {
            init_timeout: Duration::from_millis(config.ws_connection_init_timeout_ms),
            token_recheck: Duration::from_millis(config.ws_token_recheck_ms),
        },
    });
    let router = Router::new()
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::execute)
                .layer(middleware::map_response(graphql::no_store))
                // Outermost, so that a WebSocket upgrade never reaches the HTTP handlers.
                .layer(middleware::from_fn_with_state(
                    http.clone(),
                    websocket::upgrade,
                )),
        )
        .route(playground::FILES_ROUTE, get(playground::file))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(middleware::from_fn_with_state(
            http.clone(),
            enforce::front_door,
        ))
        .with_state(http)
        .layer(CatchPanicLayer::custom(graphql::panic_response));
    // Outermost, so that every answer, refusals and panics included, carries the CORS headers.
    match cors::layer(&config.cors_allowed_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// What one client may hold: connections (HTTP_MAX_CONNECTIONS) and time (see `connection`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: u32,
    pub timeouts: Timeouts,
}

impl ConnectionLimits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_connections: config.http_max_connections,
            timeouts: Timeouts {
                header_read: Duration::from_millis(config.http_header_read_timeout_ms),
                body_read: Duration::from_millis(config.http_body_read_timeout_ms),
                keep_alive: Duration::from_millis(config.http_keep_alive_timeout_ms),
            },
        }
    }
}

/// Serves until `shutdown` resolves, then stops listening and lets in-flight requests finish.
///
/// At most `max_connections` are served at once. Above that the listener is not polled: new
/// connections wait in the kernel's backlog and are taken as soon as a slot frees (the timeouts
/// make sure one does), rather than being accepted only to be cut.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => slot,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection::serve(
            stream,
            peer,
            router.clone(),
            limits.timeouts,
            stopped.clone(),
            slot,
        ));
    }
    drop(listener);
    stop.send_replace(true);
    // Each connection (and WebSocket) keeps its slot to the end: holding every slot means all
    // have finished.
    let _all = slots.acquire_many(limits.max_connections).await;
    Ok(())
}

/// A connection that died before it was accepted is the client's business; anything else (out of
/// file descriptors, say) is logged and waited out, since retrying at once would spin.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
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
