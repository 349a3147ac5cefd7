//! The `api` binary's commands, run as an operator would run them, against a fresh SQLite data dir.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("api-cli-{}", uuid::Uuid::now_v7().simple())))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn api(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_api"))
        .args(args)
        .env_clear()
        .env("DATA_DIR", data_dir)
        .env("PASSWORD_HASH_MEMORY_KIB", "256")
        .env("PASSWORD_HASH_ITERATIONS", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the api binary starts");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("the api binary finishes")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

#[test]
fn schema_prints_the_sdl_and_nothing_else() {
    let dir = DataDir::new();

    let sdl = stdout(&api(&dir.0, &["schema"], None));

    assert_eq!(sdl, api::graphql::schema::sdl());
}

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = DataDir::new();

    stdout(&api(&dir.0, &["migrate"], None));

    assert!(dir.0.join("api.sqlite").exists());
}

#[test]
fn a_role_granted_and_a_user_created_from_the_command_line_can_be_used() {
    let dir = DataDir::new();

    let granted = stdout(&api(
        &dir.0,
        &["role", "grant", "auditor", "blacklist:read", "blacklist:*"],
        None,
    ));
    let created = stdout(&api(
        &dir.0,
        &[
            "user",
            "create",
            "alice",
            "--password-stdin",
            "--role",
            "auditor",
            "--org",
            "ORG-1",
        ],
        Some("alice-password\n"),
    ));
    let revoked = stdout(&api(
        &dir.0,
        &["role", "revoke", "auditor", "blacklist:*"],
        None,
    ));

    assert!(granted.contains("auditor"), "{granted}");
    assert!(created.contains("alice"), "{created}");
    assert!(
        !created.contains("alice-password"),
        "a password read from stdin is never echoed: {created}"
    );
    assert!(revoked.contains("withdrew 1"), "{revoked}");
}

#[test]
fn a_user_with_an_unknown_role_is_not_created() {
    let dir = DataDir::new();

    let output = api(
        &dir.0,
        &[
            "user",
            "create",
            "bob",
            "--password-stdin",
            "--role",
            "nobody",
        ],
        Some("bob-password\n"),
    );
    let retry = api(
        &dir.0,
        &["user", "create", "bob", "--password-stdin"],
        Some("bob-password\n"),
    );

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nobody"));
    assert!(
        retry.status.success(),
        "the failed attempt left nothing behind"
    );
}

#[test]
fn an_invalid_permission_is_refused() {
    let dir = DataDir::new();

    let output = api(&dir.0, &["role", "grant", "auditor", "blacklist"], None);

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("resource:action"));
}

#[test]
fn a_short_jwt_secret_stops_startup_naming_the_variable() {
    let dir = DataDir::new();
    let output = Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("serve")
        .env_clear()
        .env("DATA_DIR", &dir.0)
        .env("JWT_SECRET", "too-short")
        .env("BIND", "127.0.0.1:0")
        .output()
        .expect("runs");

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("JWT_SECRET"));
}

#[test]
fn help_never_prints_secret_bearing_environment_values() {
    let secrets = [
        ("DATABASE_URL", "postgres://app:db-secret-1@127.0.0.1/api"),
        ("REDIS_URL", "redis://:redis-secret-2@127.0.0.1:6379"),
        ("JWT_SECRET", "jwt-secret-3-that-is-long-enough-for-hs256"),
        ("ADMIN_PASSWORD", "admin-secret-4"),
    ];

    let output = Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("--help")
        .env_clear()
        .envs(secrets)
        .output()
        .expect("runs");

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("DATABASE_URL"), "{help}");
    for (name, value) in secrets {
        assert!(!help.contains(value), "--help shows {name}: {help}");
        assert!(!help.contains("secret-"), "--help shows a secret: {help}");
    }
}

/// The first start of the embedded server: the generated admin password goes to a file only the
/// server's user can read, never to the log; the data directory and database are private too.
#[test]
fn the_first_start_keeps_the_generated_password_and_the_database_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = DataDir::new();
    let password_file = dir.0.join("initial-admin-password");
    let mut server = Command::new(env!("CARGO_BIN_EXE_api"))
        .arg("serve")
        .env_clear()
        .env("DATA_DIR", &dir.0)
        .env("BIND", "127.0.0.1:0")
        .env("PASSWORD_HASH_MEMORY_KIB", "256")
        .env("PASSWORD_HASH_ITERATIONS", "1")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !password_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Let the server finish starting and log what it logs.
    std::thread::sleep(std::time::Duration::from_millis(500));
    server.kill().expect("stop the server");
    let output = server.wait_with_output().expect("the server stops");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let password = std::fs::read_to_string(&password_file).expect("the password file");
    let password = password.trim();
    let mode = |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    assert!(password.len() >= 20, "a generated password: {password:?}");
    assert!(!log.contains(password), "the password is in the log: {log}");
    assert!(
        log.contains("initial-admin-password"),
        "the log names the file: {log}"
    );
    assert_eq!(mode(&password_file), 0o600);
    assert_eq!(mode(&dir.0), 0o700);
    assert_eq!(mode(&dir.0.join("api.sqlite")), 0o600);
    assert_eq!(mode(&dir.0.join("jwt_secret")), 0o600);
}

#[test]
fn an_account_change_with_the_embedded_store_says_how_it_reaches_the_server() {
    let dir = DataDir::new();
    stdout(&api(
        &dir.0,
        &["user", "create", "carol", "--password-stdin"],
        Some("carol-password\n"),
    ));

    let disabled = stdout(&api(&dir.0, &["user", "disable", "carol"], None));

    assert!(
        disabled.contains("the running server applies it to live tokens within a second"),
        "{disabled}"
    );
    assert!(
        !disabled.contains("live token(s)"),
        "no count it cannot know: {disabled}"
    );
}
