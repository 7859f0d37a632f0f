//! Project API keys: the gate on `POST /graphql` (missing key, unknown key, origin not
//! allowed, origin required), keys in the header and in `?key=`, and the `latchkey app`
//! commands that manage them.

use std::process::Output;

use serde_json::{Value, json};

use crate::cli::{latchkey, stderr, stdout};
use crate::helpers::{GqlResponse, TestApp, TestDatabase};

pub const FRONTEND: &str = "https://front.example.com";
const OTHER_SITE: &str = "https://evil.example.net";

/// Runs `latchkey app ARGS...` on this database, off the async workers.
pub async fn app_cli(database_url: &str, args: &[&str]) -> Output {
    let database_url = database_url.to_owned();
    let args: Vec<String> = std::iter::once("app".to_owned())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let workdir = tempfile::tempdir().unwrap();
        latchkey(&database_url, workdir.path())
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `latchkey app add NAME --origin O...` on this database; the key it printed last.
pub async fn add_app(
    database_url: &str,
    name: &str,
    origins: &[&str],
    require_origin: bool,
) -> String {
    let mut args = vec!["add", name];
    for origin in origins {
        args.extend(["--origin", origin]);
    }
    if require_origin {
        args.push("--require-origin");
    }
    let output = app_cli(database_url, &args).await;
    assert!(
        output.status.success(),
        "app add failed: {}",
        stderr(&output)
    );
    let out = stdout(&output);
    let key = out.lines().last().unwrap_or_default().to_owned();
    assert!(key.starts_with("lka_"), "the last line is the key: {out}");
    key
}

/// How a request carries its key.
#[derive(Clone, Copy)]
pub enum Key<'a> {
    None,
    Header(&'a str),
    Query(&'a str),
}

/// `POST /graphql` `{ __typename }` with this key and `Origin` (each optional).
pub async fn post_typename(app: &TestApp, key: Key<'_>, origin: Option<&str>) -> GqlResponse {
    let path = match key {
        Key::Query(key) => format!("/graphql?key={key}"),
        _ => "/graphql".to_owned(),
    };
    let mut request = app
        .client
        .post(app.url(&path))
        .json(&json!({ "query": "{ __typename }" }));
    if let Key::Header(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    GqlResponse::from_response(request.send().await.unwrap()).await
}

/// A server that requires keys.
async fn spawn_requiring_keys() -> TestApp {
    TestApp::spawn_with(|s| s.api_keys_required = true).await
}

#[track_caller]
fn assert_forbidden(response: &GqlResponse, rule: &str) {
    response.assert_rejected(403, "FORBIDDEN");
    let message = response.error_message();
    assert!(
        message.starts_with(rule),
        "the message names the rule `{rule}`: {message}"
    );
}

#[track_caller]
fn assert_served(response: &GqlResponse) {
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keys_required_a_request_without_a_key_is_refused_as_missing_key() {
    // Arrange
    let app = spawn_requiring_keys().await;

    // Act
    let response = post_typename(&app, Key::None, Some(FRONTEND)).await;
    let empty_header = post_typename(&app, Key::Header(""), None).await;
    let not_json = app.post_raw("{ __typename }", Some("text/plain")).await;

    // Assert
    assert_forbidden(&response, "missing API key");
    assert!(response.error_message().contains("x-api-key"));
    assert_forbidden(&empty_header, "missing API key");
    // The gate comes before the other request-level rules.
    assert_forbidden(&not_json, "missing API key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keys_required_a_key_in_the_x_api_key_header_is_served() {
    // Arrange
    let app = spawn_requiring_keys().await;
    let key = add_app(app.database_url(), "web", &[FRONTEND], false).await;

    // Act
    let from_browser = post_typename(&app, Key::Header(&key), Some(FRONTEND)).await;
    let from_server = post_typename(&app, Key::Header(&key), None).await;

    // Assert
    assert_served(&from_browser);
    assert_served(&from_server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keys_required_a_key_in_the_key_query_parameter_is_served() {
    // Arrange
    let app = spawn_requiring_keys().await;
    let key = add_app(app.database_url(), "web", &[FRONTEND], false).await;

    // Act
    let response = post_typename(&app, Key::Query(&key), Some(FRONTEND)).await;

    // Assert
    assert_served(&response);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_wins_over_the_query_parameter() {
    // Arrange
    let app = spawn_requiring_keys().await;
    let key = add_app(app.database_url(), "web", &[FRONTEND], false).await;

    // Act
    let request = app
        .client
        .post(app.url(&format!("/graphql?key={key}")))
        .header("x-api-key", format!("lka_{}", "A".repeat(43)))
        .json(&json!({ "query": "{ __typename }" }));
    let response = GqlResponse::from_response(request.send().await.unwrap()).await;

    // Assert
    assert_forbidden(&response, "unknown API key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_malformed_key_is_refused_as_unknown_key() {
    // Arrange
    let app = spawn_requiring_keys().await;
    let real = add_app(app.database_url(), "web", &[FRONTEND], false).await;
    let unknown = format!("lka_{}", "x".repeat(43));
    let truncated = &real[..real.len() - 1];

    // Act
    let answers = [
        post_typename(&app, Key::Header(&unknown), Some(FRONTEND)).await,
        post_typename(&app, Key::Query(&unknown), None).await,
        post_typename(&app, Key::Header(truncated), None).await,
        post_typename(&app, Key::Header("not-a-key"), None).await,
    ];

    // Assert
    for response in &answers {
        assert_forbidden(response, "unknown API key");
        assert!(
            !response.text.contains(&unknown) && !response.text.contains(truncated),
            "a refusal never echoes the key: {}",
            response.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_used_from_an_origin_its_app_does_not_list_is_refused() {
    // Arrange
    let app = spawn_requiring_keys().await;
    let key = add_app(
        app.database_url(),
        "web",
        &[FRONTEND, "http://localhost:3000"],
        false,
    )
    .await;

    // Act
    let other_site = post_typename(&app, Key::Header(&key), Some(OTHER_SITE)).await;
    let other_port = post_typename(&app, Key::Header(&key), Some("http://localhost:3001")).await;
    let null_origin = post_typename(&app, Key::Header(&key), Some("null")).await;
    let second_listed = post_typename(&app, Key::Header(&key), Some("http://localhost:3000")).await;

    // Assert
    assert_forbidden(&other_site, "origin not allowed");
    assert_forbidden(&other_port, "origin not allowed");
    assert_forbidden(&null_origin, "origin not allowed");
    assert_served(&second_listed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_requires_an_origin_refuses_a_request_without_one() {
    // Arrange
    let app = spawn_requiring_keys().await;
    let key = add_app(app.database_url(), "spa", &[FRONTEND], true).await;

    // Act
    let without_origin = post_typename(&app, Key::Header(&key), None).await;
    let with_origin = post_typename(&app, Key::Header(&key), Some(FRONTEND)).await;

    // Assert
    assert_forbidden(&without_origin, "origin required");
    assert_served(&with_origin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keys_required_a_request_without_a_key_is_served() {
    // Arrange
    let app = TestApp::spawn().await;
    add_app(app.database_url(), "web", &[FRONTEND], true).await;

    // Act
    let response = post_typename(&app, Key::None, Some(OTHER_SITE)).await;

    // Assert
    assert_served(&response);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keys_required_a_key_that_is_sent_is_still_checked() {
    // Arrange
    let app = TestApp::spawn().await;
    let key = add_app(app.database_url(), "spa", &[FRONTEND], true).await;
    let unknown = format!("lka_{}", "y".repeat(43));

    // Act
    let unknown_key = post_typename(&app, Key::Header(&unknown), None).await;
    let wrong_origin = post_typename(&app, Key::Query(&key), Some(OTHER_SITE)).await;
    let no_origin = post_typename(&app, Key::Header(&key), None).await;
    let right_origin = post_typename(&app, Key::Header(&key), Some(FRONTEND)).await;

    // Assert
    assert_forbidden(&unknown_key, "unknown API key");
    assert_forbidden(&wrong_origin, "origin not allowed");
    assert_forbidden(&no_origin, "origin required");
    assert_served(&right_origin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_graphql_never_needs_a_key() {
    // Arrange
    let app = spawn_requiring_keys().await;

    // Act
    let query = app.get("/graphql", &[("query", "{ __typename }")]).await;
    let graphiql = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();

    // Assert
    assert_served(&query);
    assert_eq!(graphiql.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_added_while_the_server_runs_works_at_once() {
    // Arrange: the server has loaded its (empty) apps before the app exists.
    let app = spawn_requiring_keys().await;
    assert_forbidden(
        &post_typename(&app, Key::None, None).await,
        "missing API key",
    );

    // Act
    let key = add_app(app.database_url(), "late", &[FRONTEND], false).await;
    let response = post_typename(&app, Key::Header(&key), Some(FRONTEND)).await;

    // Assert
    assert_served(&response);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_app_s_key_is_refused_once_the_server_rereads_the_apps() {
    // Arrange
    let mut app = spawn_requiring_keys().await;
    let key = add_app(app.database_url(), "gone", &[FRONTEND], false).await;
    let kept = add_app(app.database_url(), "kept", &[FRONTEND], false).await;
    assert_served(&post_typename(&app, Key::Header(&key), None).await);

    // Act: a running server may accept the key for up to 60 s more (its cache), so
    // the re-read is forced by a restart.
    let delete = app_cli(app.database_url(), &["delete", "gone"]).await;
    app.restart().await;
    let response = post_typename(&app, Key::Header(&key), None).await;

    // Assert
    assert!(delete.status.success(), "{}", stderr(&delete));
    assert!(stdout(&delete).contains("gone"), "{}", stdout(&delete));
    assert_forbidden(&response, "unknown API key");
    assert_served(&post_typename(&app, Key::Header(&kept), None).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_add_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash() {
    // Arrange
    let database = TestDatabase::create().await;

    // Act
    let output = app_cli(
        &database.url,
        &[
            "add",
            "web",
            "--origin",
            "HTTPS://Front.Example.com:443/",
            "--origin",
            "http://localhost:3000",
        ],
    )
    .await;

    // Assert
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2, "a description, then the key: {out}");
    let key = *lines.last().unwrap();
    let body = key.strip_prefix("lka_").unwrap_or_else(|| panic!("{out}"));
    assert_eq!(body.len(), 43, "{key}");
    assert!(
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        out.matches(key).count(),
        1,
        "the key is printed once: {out}"
    );
    assert!(
        out.contains("https://front.example.com"),
        "origins are shown normalised: {out}"
    );
    assert!(!stderr(&output).contains(key));
    let stored = stored_app_row(&database.url).await;
    assert_eq!(stored["name"], json!("web"));
    assert_eq!(stored["key_hash"], json!(sha256_hex(key)));
    assert!(
        !stored.to_string().contains(body),
        "the key is not stored: {stored}"
    );
    assert_eq!(stored["key_prefix"], json!(&key[..12]));
    assert_eq!(
        stored["origins"],
        json!("https://front.example.com\nhttp://localhost:3000")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_list_shows_each_app_on_a_line_and_never_a_full_key() {
    // Arrange
    let database = TestDatabase::create().await;
    let web = add_app(
        &database.url,
        "web",
        &[FRONTEND, "http://localhost:3000"],
        false,
    )
    .await;
    let spa = add_app(&database.url, "spa", &["https://spa.example.com"], true).await;

    // Act
    let output = app_cli(&database.url, &["list"]).await;

    // Assert
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        !out.contains(&web) && !out.contains(&spa),
        "no full key: {out}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let spa_line = lines.iter().find(|l| l.starts_with("spa ")).unwrap();
    assert!(spa_line.contains(&spa[..12]), "the key prefix: {spa_line}");
    assert!(spa_line.contains("https://spa.example.com"), "{spa_line}");
    assert!(spa_line.contains("require-origin"), "{spa_line}");
    let web_line = lines.iter().find(|l| l.starts_with("web ")).unwrap();
    assert!(web_line.contains(&web[..12]), "{web_line}");
    assert!(
        web_line.contains(FRONTEND) && web_line.contains("http://localhost:3000"),
        "{web_line}"
    );
    assert!(!web_line.contains("require-origin"), "{web_line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_add_refuses_a_taken_name_and_a_bad_origin_naming_it() {
    // Arrange
    let database = TestDatabase::create().await;
    add_app(&database.url, "web", &[FRONTEND], false).await;

    // Act
    let duplicate = app_cli(&database.url, &["add", "web", "--origin", FRONTEND]).await;
    let wildcard = app_cli(&database.url, &["add", "other", "--origin", "*"]).await;
    let with_path = app_cli(
        &database.url,
        &["add", "other", "--origin", "https://a.example.com/app"],
    )
    .await;
    let no_origin = app_cli(&database.url, &["add", "other"]).await;
    let bad_name = app_cli(&database.url, &["add", "two words", "--origin", FRONTEND]).await;

    // Assert
    for output in [&duplicate, &wildcard, &with_path, &no_origin, &bad_name] {
        assert!(!output.status.success(), "{}", stdout(output));
        assert!(
            !stdout(output).contains("lka_"),
            "no key on failure: {}",
            stdout(output)
        );
    }
    assert!(
        stderr(&duplicate).contains("already exists"),
        "{}",
        stderr(&duplicate)
    );
    assert!(stderr(&wildcard).contains("`*`"), "{}", stderr(&wildcard));
    assert!(
        stderr(&with_path).contains("https://a.example.com/app"),
        "{}",
        stderr(&with_path)
    );
    assert!(
        stderr(&no_origin).contains("--origin"),
        "{}",
        stderr(&no_origin)
    );
    assert!(
        stderr(&bad_name).contains("two words"),
        "{}",
        stderr(&bad_name)
    );
    let list = stdout(&app_cli(&database.url, &["list"]).await);
    assert_eq!(list.lines().count(), 1, "nothing was added: {list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_delete_of_an_unknown_name_fails() {
    // Arrange
    let database = TestDatabase::create().await;
    add_app(&database.url, "web", &[FRONTEND], false).await;

    // Act
    let output = app_cli(&database.url, &["delete", "nope"]).await;

    // Assert
    assert!(!output.status.success(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("no app named `nope`"),
        "{}",
        stderr(&output)
    );
    let list = stdout(&app_cli(&database.url, &["list"]).await);
    assert!(
        list.starts_with("web "),
        "the other app is untouched: {list}"
    );
}

/// The single `apps` row, read straight from the database.
async fn stored_app_row(database_url: &str) -> Value {
    use sea_orm::{ConnectionTrait as _, Database, Statement};
    let db = Database::connect(database_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name, key_hash, key_prefix, origins FROM apps",
        ))
        .await
        .unwrap()
        .unwrap();
    let text = |column: &str| row.try_get::<String>("", column).unwrap();
    db.close().await.unwrap();
    json!({
        "name": text("name"),
        "key_hash": text("key_hash"),
        "key_prefix": text("key_prefix"),
        "origins": text("origins"),
    })
}

fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
