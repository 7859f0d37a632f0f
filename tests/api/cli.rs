//! The `latchkey` binary itself: `schema`, `migrate`, `user add`, and refusing bad settings.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::helpers::{TestApp, TestDatabase, TestUser};

/// The binary, run in an empty directory (so no `latchkey.toml` is picked up) with no
/// `LATCHKEY_*` variables inherited from the caller.
pub fn latchkey(database_url: &str, workdir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .current_dir(workdir)
        .env("DATABASE_URL", database_url);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            command.env_remove(key);
        }
    }
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn schema_prints_exactly_the_committed_schema_file() {
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey("sqlite::memory:", workdir.path())
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(stdout(&output), committed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_creates_an_admin_who_can_log_in() {
    let database = TestDatabase::create().await;
    let workdir = tempfile::tempdir().unwrap();
    let user = TestUser::generate();

    let migrate = latchkey(&database.url, workdir.path())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let add = latchkey(&database.url, workdir.path())
        .args([
            "user",
            "add",
            "--username",
            &user.username,
            "--email",
            &user.email,
            "--admin",
        ])
        .env("LATCHKEY_NEW_PASSWORD", &user.password)
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", stderr(&add));
    assert!(stdout(&add).contains(&user.username), "{}", stdout(&add));
    assert!(!stdout(&add).contains(&user.password) && !stderr(&add).contains(&user.password));

    let app = TestApp::spawn_on(database, |_| {}).await;
    let payload = app.login_username(&user).await;
    assert_eq!(payload["user"]["role"], json!("ADMIN"));
    assert_eq!(payload["user"]["email"], json!(user.email));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_reads_the_password_from_standard_input() {
    let database = TestDatabase::create().await;
    let workdir = tempfile::tempdir().unwrap();
    let user = TestUser::generate();

    let mut child = latchkey(&database.url, workdir.path())
        .args(["user", "add", "--username", &user.username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", user.password).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let app = TestApp::spawn_on(database, |_| {}).await;
    let payload = app.login_username(&user).await;
    assert_eq!(payload["user"]["role"], json!("USER"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_refuses_a_weak_password_and_says_why() {
    let database = TestDatabase::create().await;
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey(&database.url, workdir.path())
        .args(["user", "add", "--username", "shortpw"])
        .env("LATCHKEY_NEW_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("at least 8"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_invalid_setting_stops_the_start_naming_the_setting() {
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey("sqlite::memory:", workdir.path())
        .arg("serve")
        .env("LATCHKEY_ACCESS_TOKEN_TTL", "1s")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("access_token_ttl"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn same_site_none_without_secure_cookies_stops_the_start_naming_both() {
    let workdir = tempfile::tempdir().unwrap();
    std::fs::write(
        workdir.path().join("latchkey.toml"),
        "cookie_same_site = \"none\"\ncookie_secure = false\n",
    )
    .unwrap();
    let output = latchkey("sqlite::memory:", workdir.path())
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("cookie_same_site") && message.contains("cookie_secure"),
        "{message}"
    );
}

#[test]
fn a_config_file_named_explicitly_must_exist() {
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey("sqlite::memory:", workdir.path())
        .args(["--config", "missing.toml", "serve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("missing.toml"),
        "{}",
        stderr(&output)
    );
}
