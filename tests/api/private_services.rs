//! Processes a fault test owns and may stop: its own Redis, PostgreSQL and `api` server, each on a
//! spare loopback port and killed (its files removed) when dropped. The shared services are never touched.

use std::{
    future::Future,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use uuid::Uuid;

/// Longest wait for a private service (or a log line of it) before the test gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How many polls fit in [`START_TIMEOUT`]: every wait is bounded in count as well as in time.
const MAX_POLLS: u128 = START_TIMEOUT.as_millis() / POLL_INTERVAL.as_millis();

/// A loopback port nobody listens on right now: bound to port 0, then released.
pub fn spare_port() -> u16 {
    spare_port_on(std::net::Ipv4Addr::LOCALHOST.into())
}

/// A port nobody listens on at `address` right now: bound to port 0, then released.
pub fn spare_port_on(address: std::net::IpAddr) -> u16 {
    std::net::TcpListener::bind((address, 0))
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("listener has an address")
        .port()
}

/// Polls `ready` until it says yes, for at most [`START_TIMEOUT`]; then panics naming `what` and `context()`.
/// `Err` from `ready` carries a reason to give up at once (a process that died, say).
async fn wait_until<F, Fut>(what: &str, context: impl Fn() -> String, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, String>>,
{
    let deadline = Instant::now() + START_TIMEOUT;
    for _ in 0..MAX_POLLS {
        match ready().await {
            Ok(true) => return,
            Ok(false) if Instant::now() < deadline => tokio::time::sleep(POLL_INTERVAL).await,
            Ok(false) => break,
            Err(reason) => panic!("{what} did not come up: {reason}\n{}", context()),
        }
    }
    panic!(
        "{what} did not come up within {START_TIMEOUT:?}\n{}",
        context()
    );
}

/// Runs a command that may take seconds (initdb, pg_ctl, cargo) off the async workers.
async fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread finishes")
        .unwrap_or_else(|error| panic!("cannot run {shown}: {error}"))
}

/// Sends `signal` (`-TERM`, `-STOP`, …) to a child of ours with kill(1): std has only SIGKILL.
async fn send_signal(child: &Child, signal: &str) {
    let mut kill = Command::new("kill");
    kill.args([signal, &child.id().to_string()]);
    expect_success(&format!("kill {signal}"), &run(kill).await);
}

fn expect_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A `redis-server` of the test's own that keeps nothing on disk, so a restart starts empty.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let mut redis = Self {
            port: spare_port(),
            child: None,
        };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once, as a crash would; every connection to it breaks.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the process (SIGSTOP) without closing anything: connections open, no answers, as
    /// under a network partition or a swapped-out host. [`PrivateRedis::stop`] still kills it.
    pub async fn freeze(&self) {
        self.signal("-STOP").await;
    }

    /// Lets a frozen server run again (SIGCONT).
    pub async fn thaw(&self) {
        self.signal("-CONT").await;
    }

    async fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the private Redis is running");
        send_signal(child, signal).await;
    }

    /// Starts the server (again) on the same port and waits until it answers PING.
    pub async fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (is Redis installed?)");
        self.child = Some(child);
        let address = format!("127.0.0.1:{port}");
        let child = self.child.as_mut().expect("just started");
        wait_until(
            &format!("the private Redis on {address}"),
            String::new,
            || {
                // A port taken since we chose it makes redis-server exit at once: say so rather than time out.
                let exited = child.try_wait().ok().flatten();
                let address = address.clone();
                async move {
                    match exited {
                        Some(status) => Err(format!("redis-server exited with {status}")),
                        None => Ok(answers_ping(&address).await),
                    }
                }
            },
        )
        .await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn answers_ping(address: &str) -> bool {
    let ping = async {
        let mut stream = TcpStream::connect(address).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut reply = [0_u8; 7];
        stream.read_exact(&mut reply).await?;
        std::io::Result::Ok(&reply == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), ping).await,
        Ok(Ok(true))
    )
}

/// A PostgreSQL cluster of the test's own (initdb in a temp dir, trust auth), stopped and started with pg_ctl.
pub struct PrivatePostgres {
    root: PathBuf,
    port: u16,
    bin: PathBuf,
}

impl PrivatePostgres {
    pub async fn start() -> Self {
        let root = std::env::temp_dir().join(format!("gqlt_pg_{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(root.join("sock")).expect("create the cluster's directory");
        // From here on, Drop stops the server and removes the directory whatever fails.
        let postgres = Self {
            root,
            port: spare_port(),
            bin: postgres_bin_dir(),
        };
        if running_as_root() {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:postgres").arg(&postgres.root);
            expect_success("chown", &run(chown).await);
        }
        let mut initdb = postgres.tool("initdb");
        initdb
            .arg("-D")
            .arg(postgres.data_dir())
            .args(["-A", "trust", "-U", "postgres", "--no-sync"])
            .args(["--locale=C", "-E", "UTF8"]);
        expect_success("initdb", &run(initdb).await);
        postgres.restart().await;
        postgres
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once, without a checkpoint, as a crash would.
    pub async fn stop(&self) {
        let mut pg_ctl = self.tool("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"]);
        expect_success("pg_ctl stop", &run(pg_ctl).await);
    }

    /// Starts the server (again) on the same port and waits until it accepts connections.
    pub async fn restart(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.root.join("sock").display()
        );
        let mut pg_ctl = self.tool("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "30", "-o", &options, "start"]);
        let output = run(pg_ctl).await;
        assert!(
            output.status.success(),
            "pg_ctl start failed ({}): {}\nserver log:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.log_file()).unwrap_or_default()
        );
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// One of PostgreSQL's programs, run as the postgres user when we are root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut command = if running_as_root() {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        };
        // The postgres user may not be allowed into the test's working directory.
        command.current_dir(&self.root).stdin(Stdio::null());
        command
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Already stopped, or never started: pg_ctl then fails, which is fine.
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The newest installed PostgreSQL's programs: /usr/lib/postgresql/<version>/bin.
fn postgres_bin_dir() -> PathBuf {
    let base = Path::new("/usr/lib/postgresql");
    let entries = std::fs::read_dir(base)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", base.display()));
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| panic!("no PostgreSQL with pg_ctl under {}", base.display()))
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

/// The `api` binary, built once per test run so that it is the code under test, not a stale copy.
/// A nested `cargo build` is cheap when the binary is fresh, and it finds the target dir itself.
pub async fn api_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    tokio::task::spawn_blocking(|| BINARY.get_or_init(build_api_binary).clone())
        .await
        .expect("building the api binary")
}

fn build_api_binary() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args(["build", "--package", "api", "--bin", "api"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    expect_success("cargo build --package api --bin api", &output);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "api"
                && message["executable"].is_string()
        })
        .and_then(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the api executable")
}

/// The real `api` server as an operator runs it: its own process, port and DATA_DIR.
pub struct ApiProcess {
    pub base: String,
    pub client: reqwest::Client,
    port: u16,
    child: Child,
    data_dir: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl ApiProcess {
    /// Starts `api serve` with only `env` (and BIND, DATA_DIR) set, and waits until /healthz answers.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let binary = api_binary().await;
        let port = spare_port();
        let data_dir = std::env::temp_dir().join(format!("gqlt_api_{}", Uuid::now_v7().simple()));
        let mut child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("DATA_DIR", &data_dir)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the api binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::clone(&log);
        // Drained all along, so that a chatty server never blocks on a full pipe; ends at EOF.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("log lock").push(line);
            }
        });
        let mut server = Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            port,
            child,
            data_dir,
            log,
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let what = format!("the api server on port {}", self.port);
        let url = self.url("/healthz");
        let client = self.client.clone();
        let child = &mut self.child;
        let log = &self.log;
        let show_log = || log.lock().expect("log lock").join("\n");
        wait_until(&what, show_log, || {
            let exited = child.try_wait().ok().flatten();
            let request = client.get(&url).send();
            async move {
                match exited {
                    Some(status) => Err(format!("it exited with {status}")),
                    None => Ok(request.await.is_ok_and(|r| r.status().is_success())),
                }
            }
        })
        .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's process id, to read its memory from /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// POSTs a GraphQL request and returns the JSON body, as [`crate::helpers::TestApp::gql`] does.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        post_graphql(&self.client, &self.url("/graphql"), query, variables, token).await
    }

    /// Everything the server has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// Waits (at most [`START_TIMEOUT`]) for a log line containing every one of `parts`.
    pub async fn wait_for_log_line(&self, parts: &[&str]) {
        let log = &self.log;
        let what = format!("a log line with {parts:?}");
        wait_until(
            &what,
            || self.log(),
            || async move {
                Ok(log
                    .lock()
                    .expect("log lock")
                    .iter()
                    .any(|line| parts.iter().all(|part| line.contains(part))))
            },
        )
        .await;
    }

    /// Sends SIGTERM, as an orchestrator does to stop a container.
    pub async fn terminate(&self) {
        send_signal(&self.child, "-TERM").await;
    }

    /// Waits at most `limit` for the process to exit; `None` if it is still running.
    pub async fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        for _ in 0..limit.as_millis() / POLL_INTERVAL.as_millis() + 1 {
            if let Some(status) = self.child.try_wait().expect("query the child") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        None
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// POSTs a GraphQL request to `url` and returns the JSON body.
pub async fn post_graphql(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let mut request = client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request reaches the server");
    response.json().await.expect("the body is JSON")
}
