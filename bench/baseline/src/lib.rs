//! What both benchmark baselines share: the same env vars as the server, the same kind of pools,
//! and exactly the per-request I/O of the server's point query (JWT verify, one Redis GETEX, one
//! primary-key select), so that the baselines differ from the server only in the layers above it.

pub mod auth;
pub mod config;

use std::{future::Future, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use axum::Router;
use clap::Parser;
use entity::blacklist_entry::{Entity, Model};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, EntityTrait};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

pub use self::{
    auth::{Principal, Tokens},
    config::Config,
};

/// The permission the server's `blacklistEntry` field requires.
pub const BLACKLIST_READ: &str = "blacklist:read";

/// Shared state: a SeaORM (sqlx) pool and the token checker with its Redis pool.
#[derive(Clone)]
pub struct Baseline {
    pub db: DatabaseConnection,
    pub tokens: Arc<Tokens>,
}

impl Baseline {
    /// Connects the database pool the way the server does (same size, no statement logging).
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(config.database_url.clone());
        options
            .max_connections(config.database_max_connections)
            .min_connections(1)
            .sqlx_logging(false);
        let db = Database::connect(options)
            .await
            .context("connecting to DATABASE_URL")?;
        Ok(Self {
            db,
            tokens: Arc::new(Tokens::new(config)?),
        })
    }

    /// The point query's one select, by primary key.
    pub async fn find_entry(&self, id: Uuid) -> Result<Option<Model>, DbErr> {
        Entity::find_by_id(id).one(&self.db).await
    }
}

/// Logs to stderr, filtered by RUST_LOG (default `warn`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Binds BIND and serves `router` until the process is killed.
pub async fn serve(config: &Config, router: Router) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding BIND {}", config.bind))?;
    tracing::info!(addr = %config.bind, "baseline listening");
    axum::serve(listener, router).await.context("serving")
}

/// The whole of a baseline's `main`: read the config, set up logging, run, and turn an error into
/// a logged failure exit.
pub async fn main<Fut>(run: impl FnOnce(Config) -> Fut) -> ExitCode
where
    Fut: Future<Output = anyhow::Result<()>>,
{
    let config = Config::parse();
    init_tracing();
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
