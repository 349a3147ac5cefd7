//! A private nginx (Debian's package) in front of a test server, configured as a production proxy
//! is: its own config, pid and logs in a temporary directory, a spare port on a loopback address
//! of its own, run in the foreground as our child and killed when dropped. The system nginx is
//! never started.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use uuid::Uuid;

use crate::private_services::spare_port_on;

const START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// A spare port can be taken between our look and nginx's bind: try a few.
const ATTEMPTS: usize = 5;

pub struct Nginx {
    /// `http://address:port` of the proxy.
    pub base: String,
    child: Child,
    dir: PathBuf,
}

impl Nginx {
    /// Proxies everything on `listen` (a spare port) to `upstream` (`http://127.0.0.1:port`),
    /// connecting from `bind` and adding the client's address to X-Forwarded-For.
    pub async fn start(listen: IpAddr, bind: IpAddr, upstream: &str) -> Self {
        let binary = tokio::task::spawn_blocking(nginx_binary)
            .await
            .expect("finding nginx");
        let mut last_log = String::new();
        for _ in 0..ATTEMPTS {
            let port = spare_port_on(listen);
            let dir = std::env::temp_dir().join(format!("gqlt_nginx_{}", Uuid::now_v7().simple()));
            std::fs::create_dir_all(&dir).expect("create the nginx directory");
            let config = dir.join("nginx.conf");
            std::fs::write(&config, config_text(&dir, listen, port, bind, upstream))
                .expect("write the nginx config");
            let child = Command::new(&binary)
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&config)
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
            let mut nginx = Self {
                base: format!("http://{listen}:{port}"),
                child,
                dir,
            };
            if nginx.wait_until_listening(listen, port).await {
                return nginx;
            }
            last_log = nginx.log();
        }
        panic!("nginx did not start in {ATTEMPTS} attempts:\n{last_log}");
    }

    /// True once nginx accepts connections; false if it exited (a port taken meanwhile, say).
    async fn wait_until_listening(&mut self, listen: IpAddr, port: u16) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if tokio::net::TcpStream::connect((listen, port)).await.is_ok() {
                return true;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        panic!(
            "nginx did not listen on {listen}:{port} within {START_TIMEOUT:?}:\n{}",
            self.log()
        );
    }

    /// nginx's error log so far, to explain a failure.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config_text(dir: &Path, listen: IpAddr, port: u16, bind: IpAddr, upstream: &str) -> String {
    let dir = dir.display();
    format!(
        r#"daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen {listen}:{port};
        location / {{
            proxy_pass {upstream};
            proxy_bind {bind};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"#
    )
}

/// Debian's nginx; when it is missing, `scripts/services` installs it (once per test run).
fn nginx_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(found) = find_nginx() {
                return found;
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services");
            let status = Command::new(&script)
                .stdin(Stdio::null())
                .status()
                .unwrap_or_else(|error| panic!("cannot run {}: {error}", script.display()));
            assert!(status.success(), "{} failed: {status}", script.display());
            find_nginx().expect("scripts/services installs nginx")
        })
        .clone()
}

fn find_nginx() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}
