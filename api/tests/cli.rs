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
