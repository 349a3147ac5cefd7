//! Runs the Node.js programs of tests/web (the audit, browser tests, generated clients) against a
//! server under test. `scripts/web` installs their packages and Debian's chromium first.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

/// tests/web, where the Node programs and their package-lock.json live.
pub fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// Where tests keep what they produce for people to look at (screenshots): target/test-output.
pub fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output");
    std::fs::create_dir_all(&dir).expect("create target/test-output");
    dir
}

/// Runs `node <script> <args…>` in tests/web with `env` added, and returns its stdout; panics with
/// both of its outputs if it fails or runs longer than `limit`.
pub async fn run(script: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> String {
    let dir = web_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/web has no node_modules: run scripts/web (scripts/test does)"
    );
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .envs(env.iter().copied())
        .env("TEST_OUTPUT_DIR", output_dir())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("node {script} ran longer than {limit:?}"))
        .unwrap_or_else(|error| panic!("cannot run node {script}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node {script} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    stdout
}
