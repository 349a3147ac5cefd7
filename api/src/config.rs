//! Config: every environment variable the server reads, with its default, parsed and checked once.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{ArgAction, Args};
use ipnet::IpNet;
use secrecy::SecretString;

/// Defaults shared by the CLI parser and [`Config::default`], so the two cannot drift.
pub mod defaults {
    pub const BIND: &str = "127.0.0.1:8000";
    pub const DATA_DIR: &str = "./data";
    pub const REDIS_KEY_PREFIX: &str = "gql:";
    pub const TOKEN_IDLE_TTL_SECS: u64 = 30 * 60;
    pub const TOKEN_MAX_TTL_SECS: u64 = 12 * 60 * 60;
    /// OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
    pub const PASSWORD_HASH_MEMORY_KIB: u32 = 19 * 1024;
    pub const PASSWORD_HASH_ITERATIONS: u32 = 2;
    pub const PASSWORD_HASH_PARALLELISM: u32 = 1;
    /// Logins yield to authenticated requests when the machine is busy (see `auth::hash_threads`).
    pub const PASSWORD_HASH_BUSY_SHARE: f64 = 0.05;
    pub const DEPENDENCY_TIMEOUT_MS: u64 = 2_000;
    pub const DATABASE_MAX_CONNECTIONS: u32 = 16;
    /// SQLite serialises writes and every connection keeps its own page cache: a few suffice.
    pub const SQLITE_MAX_CONNECTIONS: u32 = 4;
    pub const REQUEST_BODY_LIMIT_BYTES: usize = 1024 * 1024;
    pub const SERVICE_TOKEN_DEFAULT_TTL_SECS: u64 = 300;
    pub const SERVICE_TOKEN_MAX_TTL_SECS: u64 = 3600;
    pub const LOGIN_MAX_FAILURES: u64 = 5;
    pub const LOGIN_FAILURE_WINDOW_SECS: u64 = 15 * 60;
    /// The per-name ceiling across all addresses, as a multiple of LOGIN_MAX_FAILURES.
    pub const LOGIN_NAME_CEILING_FACTOR: u64 = 10;
    pub const LOGIN_IPV6_PREFIX: u8 = 64;
    pub const PASSWORD_HASH_QUEUE: usize = 32;
    pub const TOKENS_PER_SUBJECT_MAX: usize = 100;
    pub const QUERY_MAX_DEPTH: usize = 10;
    pub const QUERY_MAX_COMPLEXITY: usize = 1000;
    pub const QUERY_MAX_ALIASES: usize = 30;
    pub const BATCH_MAX_SIZE: usize = 10;
    pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
    pub const BLACKLIST_REFRESH_MS: u64 = 250;
    /// Ample for any client on a working network; a slowloris is cut within seconds.
    pub const HTTP_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
    /// A full 1 MiB body (REQUEST_BODY_LIMIT_BYTES) at ~35 KB/s.
    pub const HTTP_BODY_READ_TIMEOUT_MS: u64 = 30_000;
    /// Above the 60 s for which nginx keeps idle upstream connections, so the proxy, not this
    /// server, closes them first and never sends a request into a connection being closed.
    pub const HTTP_KEEP_ALIVE_TIMEOUT_MS: u64 = 75_000;
    /// Well under the usual 1024-descriptor soft limit once the database pool has its share.
    pub const HTTP_MAX_CONNECTIONS: u32 = 768;
    pub const WS_CONNECTION_INIT_TIMEOUT_MS: u64 = 5_000;
    pub const WS_TOKEN_RECHECK_MS: u64 = 500;
    /// GraphiQL's full introspection query has 175 tokens; this leaves room for any hand-written
    /// query while a parsed document stays under half a MiB (see `graphql::documents`).
    pub const QUERY_MAX_TOKENS: usize = 2_000;
    /// 30 aliased single-statement mutations fit, and so do several full pages.
    pub const QUERY_MAX_DB_STATEMENTS: usize = 64;
    pub const DOCUMENT_CACHE_BYTES: usize = 4 * 1024 * 1024;
}

/// Where the server runs: production switches off what helps a developer and an attacker alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AppEnv {
    #[default]
    Development,
    Production,
}

/// How TRUSTED_DOCUMENTS is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TrustedDocumentsMode {
    /// Manifest documents are served by `documentId` and APQ hash (and APQ registers new ones),
    /// and any other document still runs.
    #[default]
    Allow,
    /// Only the manifest's documents run; any other is refused with DOCUMENT_NOT_TRUSTED.
    Enforced,
}

/// Server configuration. Every field is an environment variable (or the matching `--flag`).
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(long, env = "BIND", default_value = defaults::BIND)]
    pub bind: SocketAddr,

    /// Database URL: `sqlite://…`, `postgres://…` or `mysql://…`.
    /// Unset: the SQLite file `api.sqlite` in DATA_DIR, created on first start.
    // hide_env_values: the URL may carry a password, and `--help` must not print it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the embedded database and the generated JWT secret.
    #[arg(long, env = "DATA_DIR", default_value = defaults::DATA_DIR)]
    pub data_dir: PathBuf,

    /// Run pending migrations when the server starts.
    #[arg(long, env = "MIGRATE_ON_START", default_value_t = true, action = ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Maximum size of the database connection pool. Unset: 16, or 4 for SQLite.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS")]
    pub database_max_connections: Option<u32>,

    /// Redis URL for token liveness. Unset: an in-process store (single instance only).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key this server writes, so several deployments can share one Redis.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = defaults::REDIS_KEY_PREFIX)]
    pub redis_key_prefix: String,

    /// HS256 signing secret, at least 32 bytes. Unset: generated once and kept in DATA_DIR/jwt_secret.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub jwt_secret: Option<SecretString>,

    /// Most live tokens one user or service account may hold; a login beyond it ends the
    /// subject's oldest token.
    #[arg(long, env = "TOKENS_PER_SUBJECT_MAX", default_value_t = defaults::TOKENS_PER_SUBJECT_MAX)]
    pub tokens_per_subject_max: usize,

    /// A token dies after this many seconds without use; each use renews it.
    #[arg(long, env = "TOKEN_IDLE_TTL_SECS", default_value_t = defaults::TOKEN_IDLE_TTL_SECS)]
    pub token_idle_ttl_secs: u64,

    /// Absolute lifetime of a token (its JWT `exp`), however often it is used.
    #[arg(long, env = "TOKEN_MAX_TTL_SECS", default_value_t = defaults::TOKEN_MAX_TTL_SECS)]
    pub token_max_ttl_secs: u64,

    /// Password of the `admin` user created on first start. Unset: generated and printed once to stderr.
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    pub admin_password: Option<SecretString>,

    /// argon2id memory cost in KiB for new password hashes.
    #[arg(long, env = "PASSWORD_HASH_MEMORY_KIB", default_value_t = defaults::PASSWORD_HASH_MEMORY_KIB)]
    pub password_hash_memory_kib: u32,

    /// argon2id iterations for new password hashes.
    #[arg(long, env = "PASSWORD_HASH_ITERATIONS", default_value_t = defaults::PASSWORD_HASH_ITERATIONS)]
    pub password_hash_iterations: u32,

    /// argon2id lanes for new password hashes.
    #[arg(long, env = "PASSWORD_HASH_PARALLELISM", default_value_t = defaults::PASSWORD_HASH_PARALLELISM)]
    pub password_hash_parallelism: u32,

    /// Password hashes computed at once. Unset: one fewer than the cores (at least one), so logins
    /// always leave a core to the other requests.
    #[arg(long, env = "PASSWORD_HASH_CONCURRENCY")]
    pub password_hash_concurrency: Option<usize>,

    /// Share of a core each hashing thread may take while other work keeps the machine busy (more
    /// than half of all CPU time): it rests between hashes, so authenticated requests go first
    /// and logins wait. 1 never rests. On a quiet machine logins always run at full speed.
    #[arg(long, env = "PASSWORD_HASH_BUSY_SHARE", default_value_t = defaults::PASSWORD_HASH_BUSY_SHARE,
          value_parser = parse_share)]
    pub password_hash_busy_share: f64,

    /// Password checks that may wait for a hashing thread; when the queue is full, a login is
    /// refused at once with TOO_MANY_REQUESTS rather than left waiting behind a flood.
    #[arg(long, env = "PASSWORD_HASH_QUEUE", default_value_t = defaults::PASSWORD_HASH_QUEUE)]
    pub password_hash_queue: usize,

    /// Longest wait, in milliseconds, for Redis or a database connection before answering SERVICE_UNAVAILABLE.
    #[arg(long, env = "DEPENDENCY_TIMEOUT_MS", default_value_t = defaults::DEPENDENCY_TIMEOUT_MS)]
    pub dependency_timeout_ms: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "REQUEST_BODY_LIMIT_BYTES", default_value_t = defaults::REQUEST_BODY_LIMIT_BYTES)]
    pub request_body_limit_bytes: usize,

    /// Lifetime of a service token when `serviceLogin` asks for none.
    #[arg(long, env = "SERVICE_TOKEN_DEFAULT_TTL_SECS", default_value_t = defaults::SERVICE_TOKEN_DEFAULT_TTL_SECS)]
    pub service_token_default_ttl_secs: u64,

    /// Longest lifetime a service token may ask for; more is BAD_USER_INPUT.
    #[arg(long, env = "SERVICE_TOKEN_MAX_TTL_SECS", default_value_t = defaults::SERVICE_TOKEN_MAX_TTL_SECS)]
    pub service_token_max_ttl_secs: u64,

    /// Proxies (comma-separated CIDR blocks) whose X-Forwarded-For is believed. Empty: the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<IpNet>,

    /// Browser origins (comma-separated `scheme://host[:port]`, exact) whose pages may call the
    /// API cross-origin, or `*` for any. Empty: same-origin pages only. Credentials (cookies) are
    /// never allowed: tokens travel in headers.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_allowed_origins: Vec<AllowedOrigin>,

    /// Failed logins per username (or client id) from one client address before further
    /// attempts at that name from there are refused.
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value_t = defaults::LOGIN_MAX_FAILURES)]
    pub login_max_failures: u64,

    /// Failed logins from one client address, whatever the names, before further attempts from
    /// there are refused. Unset: LOGIN_MAX_FAILURES (raise it for many users behind one NAT).
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_ADDRESS")]
    pub login_max_failures_per_address: Option<u64>,

    /// Failed logins per username (or client id) from all addresses together before further
    /// attempts are refused from everywhere. Unset: 10 x LOGIN_MAX_FAILURES.
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_NAME")]
    pub login_max_failures_per_name: Option<u64>,

    /// IPv6 clients are counted by their network of this prefix length (one host can use any
    /// address of its /64).
    #[arg(long, env = "LOGIN_IPV6_PREFIX", default_value_t = defaults::LOGIN_IPV6_PREFIX,
          value_parser = clap::value_parser!(u8).range(1..=128))]
    pub login_ipv6_prefix: u8,

    /// Window, in seconds from the first failure, over which failed logins are counted.
    #[arg(long, env = "LOGIN_FAILURE_WINDOW_SECS", default_value_t = defaults::LOGIN_FAILURE_WINDOW_SECS)]
    pub login_failure_window_secs: u64,

    /// Deepest selection nesting a query may have, introspection aside: fields under `__schema`
    /// and `__type` have a fixed limit of their own, the depth of the standard introspection query
    /// that GraphiQL and code generators send (`graphql::analysis::INTROSPECTION_MAX_DEPTH`).
    #[arg(long, env = "QUERY_MAX_DEPTH", default_value_t = defaults::QUERY_MAX_DEPTH)]
    pub query_max_depth: usize,

    /// Highest complexity (roughly, fields to resolve) a query may have.
    #[arg(long, env = "QUERY_MAX_COMPLEXITY", default_value_t = defaults::QUERY_MAX_COMPLEXITY)]
    pub query_max_complexity: usize,

    /// Most aliased fields a document may hold.
    #[arg(long, env = "QUERY_MAX_ALIASES", default_value_t = defaults::QUERY_MAX_ALIASES)]
    pub query_max_aliases: usize,

    /// Most operations one batched request (a JSON array) may carry.
    #[arg(long, env = "BATCH_MAX_SIZE", default_value_t = defaults::BATCH_MAX_SIZE)]
    pub batch_max_size: usize,

    /// Longest a request may execute, in milliseconds, before it is answered with TIMEOUT.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = defaults::REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,

    /// Serve schema introspection (switch off in production if the schema is private).
    #[arg(long, env = "INTROSPECTION", default_value_t = true, action = ArgAction::Set)]
    pub introspection: bool,

    /// Serve the GraphiQL playground on GET /graphql.
    #[arg(long, env = "PLAYGROUND", default_value_t = true, action = ArgAction::Set)]
    pub playground: bool,

    /// How often, in milliseconds, an instance checks whether another one changed the blacklist.
    #[arg(long, env = "BLACKLIST_REFRESH_MS", default_value_t = defaults::BLACKLIST_REFRESH_MS)]
    pub blacklist_refresh_ms: u64,

    /// Longest a client may take, in milliseconds, to send a request's head (request line and
    /// headers), counted from the accept or, on a kept-alive connection, from the request's first
    /// byte. Slower connections are closed without an answer.
    #[arg(long, env = "HTTP_HEADER_READ_TIMEOUT_MS", default_value_t = defaults::HTTP_HEADER_READ_TIMEOUT_MS)]
    pub http_header_read_timeout_ms: u64,

    /// Longest a request body may take to arrive in full, in milliseconds from the end of its head.
    /// Later: HTTP 408 and the connection is closed.
    #[arg(long, env = "HTTP_BODY_READ_TIMEOUT_MS", default_value_t = defaults::HTTP_BODY_READ_TIMEOUT_MS)]
    pub http_body_read_timeout_ms: u64,

    /// A kept-alive connection idle this many milliseconds between requests is closed (as is one
    /// whose client does not read its answer). Keep it above the proxy's upstream keep-alive timeout.
    #[arg(long, env = "HTTP_KEEP_ALIVE_TIMEOUT_MS", default_value_t = defaults::HTTP_KEEP_ALIVE_TIMEOUT_MS)]
    pub http_keep_alive_timeout_ms: u64,

    /// Most client connections served at once. Further connections are not accepted until one
    /// closes: they wait in the kernel's listen backlog.
    #[arg(long, env = "HTTP_MAX_CONNECTIONS", default_value_t = defaults::HTTP_MAX_CONNECTIONS)]
    pub http_max_connections: u32,

    /// A WebSocket on /graphql that has not sent `connection_init` within this many milliseconds
    /// of its upgrade is closed with 4408.
    #[arg(long, env = "WS_CONNECTION_INIT_TIMEOUT_MS", default_value_t = defaults::WS_CONNECTION_INIT_TIMEOUT_MS)]
    pub ws_connection_init_timeout_ms: u64,

    /// How often, in milliseconds, an open WebSocket checks that its token is still alive and
    /// keeps its permissions; it closes with 4403 once not. One token-store read per socket per period.
    #[arg(long, env = "WS_TOKEN_RECHECK_MS", default_value_t = defaults::WS_TOKEN_RECHECK_MS)]
    pub ws_token_recheck_ms: u64,

    /// Most lexical tokens a document may have; counted before it is parsed.
    #[arg(long, env = "QUERY_MAX_TOKENS", default_value_t = defaults::QUERY_MAX_TOKENS)]
    pub query_max_tokens: usize,

    /// Most database statements one operation may run, estimated from the document before it runs.
    #[arg(long, env = "QUERY_MAX_DB_STATEMENTS", default_value_t = defaults::QUERY_MAX_DB_STATEMENTS)]
    pub query_max_db_statements: usize,

    /// Estimated memory the cache of parsed documents may hold, in bytes (0 turns it off).
    #[arg(long, env = "DOCUMENT_CACHE_BYTES", default_value_t = defaults::DOCUMENT_CACHE_BYTES)]
    pub document_cache_bytes: usize,

    /// `production` switches off the playground, introspection and "Did you mean" suggestions,
    /// whatever PLAYGROUND and INTROSPECTION say.
    #[arg(long, env = "APP_ENV", value_enum, default_value_t = AppEnv::Development)]
    pub app_env: AppEnv,

    /// A persisted-documents manifest (a JSON object of sha256 to document, as GraphQL Code
    /// Generator's client preset emits it), served by `documentId` and APQ hash. Unset: such
    /// requests are answered PERSISTED_QUERY_NOT_SUPPORTED.
    #[arg(long, env = "TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<PathBuf>,

    /// `allow`: other documents run too, and APQ may register them; `enforced`: only the
    /// manifest's documents run (needs TRUSTED_DOCUMENTS).
    #[arg(long, env = "TRUSTED_DOCUMENTS_MODE", value_enum, default_value_t = TrustedDocumentsMode::Allow)]
    pub trusted_documents_mode: TrustedDocumentsMode,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: defaults::BIND
                .parse()
                .expect("the default bind address parses"),
            database_url: None,
            data_dir: PathBuf::from(defaults::DATA_DIR),
            migrate_on_start: true,
            database_max_connections: None,
            redis_url: None,
            redis_key_prefix: defaults::REDIS_KEY_PREFIX.to_owned(),
            jwt_secret: None,
            token_idle_ttl_secs: defaults::TOKEN_IDLE_TTL_SECS,
            tokens_per_subject_max: defaults::TOKENS_PER_SUBJECT_MAX,
            token_max_ttl_secs: defaults::TOKEN_MAX_TTL_SECS,
            admin_password: None,
            password_hash_memory_kib: defaults::PASSWORD_HASH_MEMORY_KIB,
            password_hash_iterations: defaults::PASSWORD_HASH_ITERATIONS,
            password_hash_parallelism: defaults::PASSWORD_HASH_PARALLELISM,
            password_hash_concurrency: None,
            password_hash_busy_share: defaults::PASSWORD_HASH_BUSY_SHARE,
            password_hash_queue: defaults::PASSWORD_HASH_QUEUE,
            dependency_timeout_ms: defaults::DEPENDENCY_TIMEOUT_MS,
            request_body_limit_bytes: defaults::REQUEST_BODY_LIMIT_BYTES,
            service_token_default_ttl_secs: defaults::SERVICE_TOKEN_DEFAULT_TTL_SECS,
            service_token_max_ttl_secs: defaults::SERVICE_TOKEN_MAX_TTL_SECS,
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
            login_max_failures: defaults::LOGIN_MAX_FAILURES,
            login_failure_window_secs: defaults::LOGIN_FAILURE_WINDOW_SECS,
            login_max_failures_per_name: None,
            login_max_failures_per_address: None,
            login_ipv6_prefix: defaults::LOGIN_IPV6_PREFIX,
            query_max_depth: defaults::QUERY_MAX_DEPTH,
            query_max_complexity: defaults::QUERY_MAX_COMPLEXITY,
            query_max_aliases: defaults::QUERY_MAX_ALIASES,
            batch_max_size: defaults::BATCH_MAX_SIZE,
            request_timeout_ms: defaults::REQUEST_TIMEOUT_MS,
            introspection: true,
            playground: true,
            blacklist_refresh_ms: defaults::BLACKLIST_REFRESH_MS,
            http_header_read_timeout_ms: defaults::HTTP_HEADER_READ_TIMEOUT_MS,
            http_body_read_timeout_ms: defaults::HTTP_BODY_READ_TIMEOUT_MS,
            http_keep_alive_timeout_ms: defaults::HTTP_KEEP_ALIVE_TIMEOUT_MS,
            http_max_connections: defaults::HTTP_MAX_CONNECTIONS,
            ws_connection_init_timeout_ms: defaults::WS_CONNECTION_INIT_TIMEOUT_MS,
            ws_token_recheck_ms: defaults::WS_TOKEN_RECHECK_MS,
            query_max_tokens: defaults::QUERY_MAX_TOKENS,
            query_max_db_statements: defaults::QUERY_MAX_DB_STATEMENTS,
            document_cache_bytes: defaults::DOCUMENT_CACHE_BYTES,
            app_env: AppEnv::Development,
            trusted_documents: None,
            trusted_documents_mode: TrustedDocumentsMode::Allow,
        }
    }
}

impl Config {
    /// The database URL in force: DATABASE_URL, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match (&self.database_url, self.embedded_database_file()) {
            (Some(url), _) => url.clone(),
            (None, file) => format!("sqlite://{}?mode=rwc", file.unwrap_or_default().display()),
        }
    }

    /// The embedded SQLite file, when DATABASE_URL is unset.
    pub fn embedded_database_file(&self) -> Option<PathBuf> {
        self.database_url
            .is_none()
            .then(|| self.data_dir.join("api.sqlite"))
    }

    pub fn database_max_connections(&self) -> u32 {
        let sqlite = self.database_url().starts_with("sqlite:");
        self.database_max_connections.unwrap_or(if sqlite {
            defaults::SQLITE_MAX_CONNECTIONS
        } else {
            defaults::DATABASE_MAX_CONNECTIONS
        })
    }

    pub fn password_hash_concurrency(&self) -> usize {
        self.password_hash_concurrency
            .unwrap_or_else(cores_but_one)
            .max(1)
    }

    pub fn token_idle_ttl(&self) -> Duration {
        Duration::from_secs(self.token_idle_ttl_secs)
    }

    pub fn token_max_ttl(&self) -> Duration {
        Duration::from_secs(self.token_max_ttl_secs)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Introspection as served: INTROSPECTION, and never in production.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection && self.app_env != AppEnv::Production
    }

    /// The playground as served: PLAYGROUND, and never in production.
    pub fn playground_enabled(&self) -> bool {
        self.playground && self.app_env != AppEnv::Production
    }

    pub fn blacklist_refresh(&self) -> Duration {
        Duration::from_millis(self.blacklist_refresh_ms)
    }

    pub fn login_max_failures_per_address(&self) -> u64 {
        self.login_max_failures_per_address
            .unwrap_or(self.login_max_failures)
    }

    pub fn login_max_failures_per_name(&self) -> u64 {
        self.login_max_failures_per_name.unwrap_or(
            self.login_max_failures
                .saturating_mul(defaults::LOGIN_NAME_CEILING_FACTOR),
        )
    }

    pub fn login_failure_window(&self) -> Duration {
        Duration::from_secs(self.login_failure_window_secs)
    }

    pub fn dependency_timeout(&self) -> Duration {
        Duration::from_millis(self.dependency_timeout_ms)
    }

    /// Rejects values that would make the server insecure or unusable, naming the variable.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.token_idle_ttl_secs > 0,
            "TOKEN_IDLE_TTL_SECS must be at least 1"
        );
        anyhow::ensure!(
            self.token_max_ttl_secs > 0,
            "TOKEN_MAX_TTL_SECS must be at least 1"
        );
        anyhow::ensure!(
            self.dependency_timeout_ms > 0,
            "DEPENDENCY_TIMEOUT_MS must be at least 1"
        );
        anyhow::ensure!(
            self.database_max_connections != Some(0),
            "DATABASE_MAX_CONNECTIONS must be at least 1"
        );
        anyhow::ensure!(
            self.request_body_limit_bytes > 0,
            "REQUEST_BODY_LIMIT_BYTES must be at least 1"
        );
        anyhow::ensure!(
            (1..=128).contains(&self.login_ipv6_prefix),
            "LOGIN_IPV6_PREFIX must be 1 to 128"
        );
        anyhow::ensure!(
            self.tokens_per_subject_max > 0,
            "TOKENS_PER_SUBJECT_MAX must be at least 1"
        );
        anyhow::ensure!(
            self.password_hash_queue > 0,
            "PASSWORD_HASH_QUEUE must be at least 1"
        );
        for (value, name) in [
            (
                self.http_header_read_timeout_ms,
                "HTTP_HEADER_READ_TIMEOUT_MS",
            ),
            (self.http_body_read_timeout_ms, "HTTP_BODY_READ_TIMEOUT_MS"),
            (
                self.http_keep_alive_timeout_ms,
                "HTTP_KEEP_ALIVE_TIMEOUT_MS",
            ),
        ] {
            anyhow::ensure!(value > 0, "{name} must be at least 1");
        }
        anyhow::ensure!(
            self.http_max_connections > 0,
            "HTTP_MAX_CONNECTIONS must be at least 1"
        );
        anyhow::ensure!(
            self.trusted_documents.is_some()
                || self.trusted_documents_mode != TrustedDocumentsMode::Enforced,
            "TRUSTED_DOCUMENTS_MODE=enforced needs TRUSTED_DOCUMENTS, the manifest to enforce"
        );
        anyhow::ensure!(
            self.cors_allowed_origins.len() <= 1
                || !self.cors_allowed_origins.contains(&AllowedOrigin::Any),
            "CORS_ALLOWED_ORIGINS is either `*` alone or a list of origins, not both"
        );
        anyhow::ensure!(
            self.ws_connection_init_timeout_ms > 0,
            "WS_CONNECTION_INIT_TIMEOUT_MS must be at least 1"
        );
        anyhow::ensure!(
            (1..=1_000).contains(&self.ws_token_recheck_ms),
            "WS_TOKEN_RECHECK_MS must be 1 to 1000: a dead token must end its subscriptions within a second"
        );
        Ok(())
    }
}

/// One fewer than the cores, at least one: what costly work may take while a core stays free
/// for the requests that are already cheap.
pub fn cores_but_one() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .saturating_sub(1)
        .max(1)
}

/// An origin allowed to call the API from a browser page on another origin (CORS_ALLOWED_ORIGINS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigin {
    /// `*`: any origin. Safe only because no credentials (cookies) are ever allowed: a page on
    /// another origin can use a token only if it already holds it.
    Any,
    /// One origin exactly as a browser sends it in `Origin`: `scheme://host[:port]`, lower case.
    Exact(String),
}

/// `*`, or `http(s)://host[:port]` with no path, user, query or default port: a browser never
/// sends those in `Origin`, so such an entry could never match and is a mistake worth stopping on.
fn parse_origin(value: &str) -> Result<AllowedOrigin, String> {
    let value = value.trim();
    if value == "*" {
        return Ok(AllowedOrigin::Any);
    }
    let refuse =
        |why: &str| format!("`{value}` is not an origin ({why}); write scheme://host[:port]");
    let origin = value.to_ascii_lowercase();
    let (scheme, authority) = origin
        .split_once("://")
        .ok_or_else(|| refuse("no scheme"))?;
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return Err(refuse("the scheme must be http or https")),
    };
    if authority.contains(['/', '?', '#']) {
        return Err(refuse(
            "an origin has no path, query or fragment, not even a trailing /",
        ));
    }
    if authority.contains('@') {
        return Err(refuse("an origin has no user name"));
    }
    // A bracketed IPv6 address holds colons of its own: the port follows the closing bracket.
    let host_end = authority.rfind(']').map_or(0, |bracket| bracket + 1);
    let (host, port) = match authority[host_end..].rfind(':') {
        Some(colon) => {
            let colon = host_end + colon;
            (&authority[..colon], Some(&authority[colon + 1..]))
        }
        None => (authority, None),
    };
    let host_is_sane = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '[' | ']' | ':'));
    if !host_is_sane {
        return Err(refuse(
            "the host is empty or has characters a host cannot have",
        ));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |port| port == 0) {
            return Err(refuse("the port must be a number from 1 to 65535"));
        }
        if port == default_port {
            return Err(refuse(
                "browsers leave the scheme's default port out of an origin",
            ));
        }
    }
    Ok(AllowedOrigin::Exact(origin))
}

fn parse_net(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{value}` is not a CIDR block or address"))
}

/// A share of a core: more than 0, at most 1.
fn parse_share(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(format!("`{value}` is not a number above 0 and at most 1")),
    }
}

fn parse_secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{AllowedOrigin, parse_origin};

    #[test]
    fn an_origin_is_kept_as_a_browser_sends_it() {
        let exact = |origin: &str| Ok(AllowedOrigin::Exact(origin.to_owned()));
        assert_eq!(
            parse_origin("https://app.example.com"),
            exact("https://app.example.com")
        );
        assert_eq!(
            parse_origin(" HTTP://127.0.0.1:5173 "),
            exact("http://127.0.0.1:5173")
        );
        assert_eq!(
            parse_origin("http://[::1]:8080"),
            exact("http://[::1]:8080")
        );
        assert_eq!(parse_origin("*"), Ok(AllowedOrigin::Any));
    }

    #[test]
    fn what_no_browser_sends_as_an_origin_is_refused() {
        for value in [
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://user@app.example.com",
            "https://app.example.com:443",
            "http://app.example.com:80",
            "https://app.example.com:99999",
            "https://app.example.com:0",
            "https://",
            "https://app example.com",
            "",
        ] {
            assert!(parse_origin(value).is_err(), "{value} was accepted");
        }
    }
}
