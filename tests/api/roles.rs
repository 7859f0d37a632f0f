//! Roles: `user(username:)` shows yourself, or anyone to an admin; the CLI manages roles;
//! and `authPolicy` reports the rules in force.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{latchkey, stderr, stdout};
use crate::helpers::{TestApp, TestUser, str_field};

const USER: &str =
    "query User($username: String!) { user(username: $username) { id username role } }";

async fn lookup(app: &TestApp, token: &str, username: &str) -> crate::helpers::GqlResponse {
    app.gql_with_token(token, USER, json!({ "username": username }))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_answers_yourself_in_any_letter_case() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;

    // Act
    let response = lookup(
        &app,
        str_field(&login, "accessToken"),
        &user.username.to_uppercase(),
    )
    .await;

    // Assert
    assert_eq!(
        response.assert_ok()["user"]["username"],
        json!(user.username)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_of_someone_else_is_forbidden_whether_or_not_they_exist() {
    // Arrange
    let app = TestApp::spawn().await;
    let (other, _) = app.signed_in_user().await;
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");

    // Act
    let existing = lookup(&app, token, &other.username).await;
    let missing = lookup(&app, token, "nobody_by_that_name").await;

    // Assert
    existing.assert_error("FORBIDDEN", 403);
    missing.assert_error("FORBIDDEN", 403);
    assert_eq!(existing.error_message(), missing.error_message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_anyone_and_null_for_no_one() {
    // Arrange: the configured admin is created at start.
    let app = TestApp::spawn_with(|s| {
        s.admin = Some(latchkey_api::config::BootstrapAdmin {
            username: "root".into(),
            password: "an admin passphrase 9".into(),
        });
    })
    .await;
    let (other, _) = app.signed_in_user().await;
    let admin = app
        .login(json!({ "username": "root", "password": "an admin passphrase 9" }))
        .await;
    let token = str_field(&admin.assert_ok()["login"], "accessToken").to_owned();

    // Act
    let someone = lookup(&app, &token, &other.username).await;
    let no_one = lookup(&app, &token, "nobody_by_that_name").await;

    // Assert
    assert_eq!(
        someone.assert_ok()["user"]["username"],
        json!(other.username)
    );
    assert_eq!(someone.assert_ok()["user"]["role"], "USER");
    assert_eq!(no_one.assert_ok()["user"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_requires_authentication() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.gql(USER, json!({ "username": "root" })).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_users_and_sets_roles_that_take_effect_at_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let (promoted, login) = app.signed_in_user().await;
    let (other, _) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    lookup(&app, token, &other.username)
        .await
        .assert_error("FORBIDDEN", 403);
    let workdir = tempfile::tempdir().unwrap();

    // Act
    let set_role = latchkey(app.database_url(), workdir.path())
        .args([
            "user",
            "set-role",
            "--username",
            &promoted.username,
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    let list = latchkey(app.database_url(), workdir.path())
        .args(["user", "list"])
        .output()
        .unwrap();
    let unknown = latchkey(app.database_url(), workdir.path())
        .args([
            "user",
            "set-role",
            "--username",
            "nobody_here",
            "--role",
            "user",
        ])
        .output()
        .unwrap();

    // Assert
    assert!(set_role.status.success(), "{}", stderr(&set_role));
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = stdout(&list);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with(&format!("{}  ", promoted.username)),
        "{listed}"
    );
    assert!(lines[0].contains("  admin  "), "{listed}");
    assert!(lines[1].contains("  user  "), "{listed}");
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("nobody_here"),
        "{}",
        stderr(&unknown)
    );
    let seen = lookup(&app, token, &other.username).await;
    assert_eq!(seen.assert_ok()["user"]["username"], json!(other.username));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_with_admin_makes_an_admin() {
    // Arrange
    let app = TestApp::spawn().await;
    let admin = TestUser::generate();
    let workdir = tempfile::tempdir().unwrap();

    // Act
    let add = latchkey(app.database_url(), workdir.path())
        .env("LATCHKEY_NEW_PASSWORD", &admin.password)
        .args(["user", "add", "--username", &admin.username, "--admin"])
        .output()
        .unwrap();
    let login = app.login_username(&admin).await;

    // Assert
    assert!(add.status.success(), "{}", stderr(&add));
    assert_eq!(login["user"]["role"], "ADMIN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_policy_reports_the_settings_in_force_without_authentication() {
    // Arrange
    let app = TestApp::spawn_with(|s| {
        s.signup = false;
        s.password_max_age = Some(Duration::from_secs(90 * 24 * 3600));
        s.access_token_ttl = Duration::from_secs(600);
        s.session_ttl = Duration::from_secs(7 * 24 * 3600);
    })
    .await;
    let defaults = TestApp::spawn().await;
    let query = "{ authPolicy { signupEnabled passwordMinLength passwordMaxLength \
        passwordMaxAgeDays accessTokenTtlSeconds sessionTtlSeconds modes apiKeysRequired } }";

    // Act
    let configured = app.gql(query, json!({})).await;
    let default = defaults.gql(query, json!({})).await;

    // Assert
    assert_eq!(
        configured.assert_ok()["authPolicy"],
        json!({
            "signupEnabled": false,
            "passwordMinLength": 8,
            "passwordMaxLength": 256,
            "passwordMaxAgeDays": 90,
            "accessTokenTtlSeconds": 600,
            "sessionTtlSeconds": 604_800,
            "modes": ["JSON", "COOKIE", "SESSION"],
            "apiKeysRequired": false,
        })
    );
    let default = &default.assert_ok()["authPolicy"];
    assert_eq!(default["signupEnabled"], true);
    assert_eq!(default["passwordMaxAgeDays"], Value::Null);
    assert_eq!(default["accessTokenTtlSeconds"], 900);
    assert_eq!(default["sessionTtlSeconds"], 2_592_000);
}
