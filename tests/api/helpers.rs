//! spawn_app: the real server on an ephemeral port, with storage of its own, spoken to over HTTP.

use std::{future::pending, path::PathBuf, sync::Arc, time::Duration};

use api::{app::App, config::Config, state::AppState};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use uuid::Uuid;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// Where a test's data lives: SQLite with the in-process token store (the embedded default),
/// or a server database with the token store in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Backend {
    pub fn named(name: &str) -> Self {
        match name {
            "sqlite" => Self::Sqlite,
            "postgres" => Self::Postgres,
            "mysql" => Self::Mysql,
            other => panic!("no backend called {other}"),
        }
    }
}

/// Runs each listed `async fn name(backend: Backend)` as one test per backend:
/// `on_backends!([sqlite, postgres] [test_a, test_b]);` makes `sqlite::test_a`, `postgres::test_a`, …
#[macro_export]
macro_rules! on_backends {
    ([$($backend:ident),+ $(,)?] $tests:tt) => {
        $( $crate::on_backends!(@one $backend $tests); )+
    };
    (@one $backend:ident [$($test:ident),+ $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::Backend::named(stringify!($backend))).await
                }
            )+
        }
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

pub fn mysql_admin_url() -> String {
    std::env::var("TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A database (or SQLite data directory) and a Redis key prefix made for one test, and removed
/// when the test ends.
pub struct TestStorage {
    backend: Backend,
    name: String,
    data_dir: PathBuf,
    redis_prefix: String,
    _turn: Turn,
}

/// Tests that time the server (latency under a flood) must not share the machine with the rest of
/// the suite. Every test holds a share while its storage lives; a timing test waits until no share
/// is held and keeps others from starting meanwhile. Shares never wait for a timing test that is
/// only waiting, so a test holding two storages cannot deadlock; a timing test may wait until the
/// others have finished.
struct Turns {
    shares: usize,
    alone: bool,
}

static TURNS: std::sync::Mutex<Turns> = std::sync::Mutex::new(Turns {
    shares: 0,
    alone: false,
});

enum Turn {
    Shared,
    Alone,
}

impl Turn {
    async fn take(alone: bool) -> Self {
        loop {
            {
                let mut turns = TURNS.lock().unwrap_or_else(|e| e.into_inner());
                if alone && !turns.alone && turns.shares == 0 {
                    turns.alone = true;
                    return Self::Alone;
                }
                if !alone && !turns.alone {
                    turns.shares += 1;
                    return Self::Shared;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut turns = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        match self {
            Self::Shared => turns.shares -= 1,
            Self::Alone => turns.alone = false,
        }
    }
}

impl TestStorage {
    pub async fn create(backend: Backend) -> Self {
        Self::create_taking(backend, Turn::take(false).await).await
    }

    /// Storage for a test that times the server: it runs with no other test beside it.
    pub async fn create_alone(backend: Backend) -> Self {
        Self::create_taking(backend, Turn::take(true).await).await
    }

    async fn create_taking(backend: Backend, turn: Turn) -> Self {
        let name = format!("gqlt_{}", Uuid::now_v7().simple());
        let data_dir = std::env::temp_dir().join(&name);
        if let Some(admin) = admin_url(backend) {
            let db = Database::connect(admin)
                .await
                .expect("connect to the database server");
            db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            db.close().await.expect("close the admin connection");
        }
        let redis_prefix = format!("{name}:");
        Self {
            backend,
            name,
            data_dir,
            redis_prefix,
            _turn: turn,
        }
    }

    pub fn redis_prefix(&self) -> String {
        self.redis_prefix.clone()
    }

    /// DATABASE_URL for the test's database; `None` means the embedded SQLite file in `data_dir`.
    pub fn database_url(&self) -> Option<String> {
        admin_url(self.backend).map(|admin| format!("{admin}/{}", self.name))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone()
    }
}

fn admin_url(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(postgres_admin_url()),
        Backend::Mysql => Some(mysql_admin_url()),
    }
}

impl Drop for TestStorage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let admin = admin_url(self.backend);
        let drop_sql = match self.backend {
            // FORCE: the server under test may still hold pooled connections.
            Backend::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            _ => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        let pattern = format!("{}*", self.redis_prefix);
        // Drop runs inside the test's runtime, which cannot block on itself: use a runtime of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if let Some(admin) = admin {
                    let db = Database::connect(admin).await?;
                    db.execute_unprepared(&drop_sql).await?;
                    db.close().await?;
                }
                delete_redis_keys(&pattern).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not remove test storage {}", self.name);
        }
    }
}

/// Deletes the test's keys from the shared Redis (some, like the blacklist version, never expire).
async fn delete_redis_keys(pattern: &str) -> anyhow::Result<()> {
    let client = redis::Client::open(redis_url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<()>(&mut conn)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// The configuration a test starts from: its own storage, a known secret and admin password,
/// and cheap password hashing (set through the same variables an operator would use).
pub fn test_config(backend: Backend, storage: &TestStorage) -> Config {
    Config {
        database_url: storage.database_url(),
        data_dir: storage.data_dir(),
        redis_url: (backend != Backend::Sqlite).then(redis_url),
        redis_key_prefix: storage.redis_prefix(),
        jwt_secret: Some(SecretString::from(JWT_SECRET.to_owned())),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD.to_owned())),
        token_idle_ttl_secs: 300,
        password_hash_memory_kib: 256,
        password_hash_iterations: 1,
        password_hash_parallelism: 1,
        database_max_connections: Some(8),
        ..Config::default()
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub config: Config,
    /// The running server's own state: its token store is the only way to reach an in-process one.
    pub state: AppState,
    // Declared last so the database outlives the connections above when the test ends; shared
    // with the replicas of [`TestApp::spawn_replica`], so the last one to end drops it.
    storage: Arc<TestStorage>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], after `adjust` has changed the configuration (short TTLs, say).
/// Believe X-Forwarded-For from the test client itself, as from a reverse proxy on the same host.
pub fn behind_loopback_proxy(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a CIDR block")];
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    configure_and_serve(TestStorage::create(backend).await, adjust).await
}

/// Like [`spawn_app_with`], for a test that times the server: no other test runs beside it.
pub async fn spawn_app_alone_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    configure_and_serve(TestStorage::create_alone(backend).await, adjust).await
}

async fn configure_and_serve(storage: TestStorage, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(storage.backend, &storage);
    adjust(&mut config);
    serve_app(config, Arc::new(storage)).await
}

async fn serve_app(config: Config, storage: Arc<TestStorage>) -> TestApp {
    let app = App::build(&config).await.expect("the app builds");
    let db = app.state.db.clone();
    let state = app.state.clone();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("listener has an address");
    tokio::spawn(app.serve(listener, pending()));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        db,
        config,
        state,
        storage,
    }
}

impl TestApp {
    /// A second server on this one's configuration: the same database and the same Redis key
    /// prefix, as another replica behind a load balancer runs (only meaningful with Redis).
    pub async fn spawn_replica(&self) -> TestApp {
        serve_app(self.config.clone(), Arc::clone(&self.storage)).await
    }

    /// The state the `api user|role|service …` commands work on. With Redis it is built afresh,
    /// as the CLI process builds it; an in-process token store is reachable only through the server.
    pub async fn cli_state(&self) -> AppState {
        if self.config.redis_url.is_some() {
            api::app::build_state(&self.config)
                .await
                .expect("state for the CLI calls")
        } else {
            self.state.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a GraphQL request and returns the JSON body.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request reaches the server");
        response.json().await.expect("the body is JSON")
    }

    /// Like [`TestApp::gql`], with one header of the caller's choosing (`X-AUTH-TOKEN`, `Authorization: Basic …`).
    pub async fn gql_with_header(
        &self,
        query: &str,
        variables: Value,
        name: &str,
        value: &str,
    ) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header(name, value)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request reaches the server");
        response.json().await.expect("the body is JSON")
    }

    /// Logs in and returns the token, panicking with the errors when login fails.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = self
            .gql(
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                json!({ "u": username, "p": password }),
                None,
            )
            .await;
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// A login as `username`, sent by the client at `from` through `X-Forwarded-For` (the app
    /// must believe the loopback proxy: [`behind_loopback_proxy`]); returns the JSON body, whose
    /// payload is `{ principal { username } }`.
    pub async fn login_from(&self, from: &str, username: &str, password: &str) -> Value {
        self.gql_with_header(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { principal { username } } }",
            json!({ "u": username, "p": password }),
            "X-Forwarded-For",
            from,
        )
        .await
    }

    /// Creates a service account through the library call `api service create` makes; returns
    /// its secret.
    pub async fn create_service(&self, client_id: &str, permissions: &[&str]) -> String {
        let permissions: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
        api::service::accounts::create_service(&self.cli_state().await, client_id, &permissions)
            .await
            .expect("create the service account")
    }

    /// Logs a service account in and returns its token, panicking with the body when login fails.
    pub async fn service_token(&self, client_id: &str, secret: &str) -> String {
        let body = self
            .gql(
                "mutation($c: String!, $s: String!) { serviceLogin(clientId: $c, clientSecret: $s) { token } }",
                json!({ "c": client_id, "s": secret }),
                None,
            )
            .await;
        body["data"]["serviceLogin"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("service login failed: {body}"))
            .to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user holding exactly `permissions` (through a role of its own) and logs it in.
    pub async fn token_with_permissions(&self, username: &str, permissions: &[&str]) -> String {
        let password = format!("{username}-password");
        self.create_user(
            username,
            &password,
            permissions,
            Some("ORG-A"),
            Some("COMPANY-A"),
        )
        .await;
        self.login(username, &password).await
    }

    /// Creates a user through the same library calls the `api user create` and `api role grant` commands use.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        permissions: &[&str],
        org_code: Option<&str>,
        company_code: Option<&str>,
    ) {
        let state = api::app::build_state(&self.config)
            .await
            .expect("state for the CLI calls");
        let role = format!("{username}-role");
        let permissions: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
        let mut roles = Vec::new();
        if !permissions.is_empty() {
            api::service::accounts::grant_role(&state, &role, &permissions)
                .await
                .expect("grant permissions");
            roles.push(role);
        }
        let new = api::db::user::NewUser {
            username,
            password_hash: state
                .passwords
                .hash(password)
                .await
                .expect("hash the password"),
            display_name: Some(&format!("{username} display")),
            org_code,
            company_code,
            roles: &roles,
        };
        api::service::users::create_account(&state, new, None)
            .await
            .expect("create the user");
    }

    /// Counts rows in a table, to prove what a failed request did not write.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count query")
            .expect("a row");
        row.try_get::<i64>("", "n").expect("a count")
    }
}

/// The error code of the first error of a response, or a panic showing the body.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// The claims of a JWT, read without checking anything, to inspect or forge from a real token.
pub fn token_claims(token: &str) -> Value {
    let payload = token
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}
