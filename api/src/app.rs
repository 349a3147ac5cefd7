//! App: everything the server needs, built once from Config, then served.

use std::{future::Future, sync::Arc};

use axum::Router;
use tokio::net::TcpListener;

use crate::{
    auth::{
        jwt::JwtKeys, liveness, password::Passwords, session::Sessions, throttle::LoginThrottle,
    },
    blacklist::{Blacklist, feed::ChangeFeed},
    bootstrap,
    config::Config,
    db::{self, HeldConnections},
    graphql::trusted::TrustedDocuments,
    http::server,
    service::{self, accounts},
    state::AppState,
};

pub struct App {
    pub state: AppState,
    router: Router,
    connections: server::ConnectionLimits,
}

impl App {
    /// Connects, migrates (unless MIGRATE_ON_START=false), creates the first admin, and builds the router.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        // Before the database: a bad manifest stops the start without touching it.
        let trusted = TrustedDocuments::from_config(config)?;
        let state = build_state(config).await?;
        bootstrap::ensure_admin(&state, config).await?;
        service::blacklist_watch::spawn(state.clone(), config.blacklist_refresh());
        state.blacklist_feed.start().await;
        if !accounts::reaches_every_server(&state) {
            service::account_watch::spawn(state.clone()).await?;
        }
        let router = server::router(state.clone(), config, trusted);
        Ok(Self {
            state,
            router,
            connections: server::ConnectionLimits::from_config(config),
        })
    }

    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "serving GraphQL on http://{addr}/graphql");
        }
        server::serve(listener, self.router, self.connections, shutdown).await
    }
}

/// The shared state without the HTTP parts: the CLI commands use it too.
pub async fn build_state(config: &Config) -> anyhow::Result<AppState> {
    config.validate()?;
    let keys = JwtKeys::load(config)?;
    let passwords = Passwords::from_config(config)?;
    let stores = liveness::from_config(config)?;
    let db = db::connect(config).await?;
    if config.migrate_on_start {
        db::migrate(&db).await?;
    }
    let blacklist = Blacklist::load(&db).await?;
    Ok(AppState {
        point_reads: Arc::new(HeldConnections::new(
            &db,
            config.database_max_connections(),
            config.dependency_timeout(),
        )),
        db,
        throttle: LoginThrottle::new(config, stores.attempts),
        sessions: Sessions::new(config, keys, stores.tokens),
        changes: stores.changes,
        passwords,
        blacklist,
        blacklist_feed: ChangeFeed::from_config(config)?,
    })
}
