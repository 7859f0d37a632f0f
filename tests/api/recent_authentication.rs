//! Step-up (issue 16 §1): an access token whose session fully authenticated longer than
//! `reauth_window` ago (5 minutes by default) cannot make a personal token or turn TOTP
//! on, however fresh the token itself is; the password in the same call, or
//! `reauthenticate`, lets it. A refresh is not an authentication.
//!
//! The attack: a stolen access token, kept alive by refreshing, calls `addAuthHeader` for
//! an `lk_` token that outlives the theft, or `enrollTotp` + `confirmTotp` to lock the
//! owner out and keep the recovery codes.

use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};
use crate::totp::{code_at, current_step, wrong_code};

const ADD_AUTH_HEADER: &str = "mutation Add($name: String!, $password: String, $otp: String) { \
    addAuthHeader(name: $name, password: $password, otp: $otp) { token } }";
const ENROLL: &str = "mutation Enroll($password: String, $otp: String) { \
    enrollTotp(password: $password, otp: $otp) { secret } }";
const CONFIRM: &str = "mutation Confirm($otp: String!, $password: String) { \
    confirmTotp(otp: $otp, password: $password) }";
const REAUTHENTICATE: &str = "mutation Reauth($password: String!, $otp: String) { \
    reauthenticate(password: $password, otp: $otp) { id authenticatedAt current } }";
const SESSIONS: &str = "query { sessions { id created authenticatedAt lastUsedAt current } }";

/// The default `reauth_window`, in seconds.
const WINDOW_SECS: u64 = 300;

/// A user logged in (JSON mode): the user, its access token and refresh token.
async fn logged_in(app: &TestApp) -> (TestUser, String, String) {
    let (user, login) = app.signed_in_user().await;
    (
        user,
        str_field(&login, "accessToken").to_owned(),
        str_field(&login, "refreshToken").to_owned(),
    )
}

/// What the thief does: waits past the window and past the access token's life, then
/// refreshes to hold a fresh access token of the old login. Returns `(access, refresh)`.
async fn much_later_refreshed(app: &TestApp, refresh_token: &str) -> (String, String) {
    app.clock.advance(Duration::from_secs(20 * 60));
    let refreshed = app.refresh(refresh_token).await;
    let payload = &refreshed.assert_ok()["refresh"];
    (
        str_field(payload, "accessToken").to_owned(),
        str_field(payload, "refreshToken").to_owned(),
    )
}

async fn add_auth_header(app: &TestApp, access: &str, step_up: Value) -> GqlResponse {
    let mut variables = json!({ "name": format!("script {}", uuid::Uuid::new_v4()) });
    merge(&mut variables, step_up);
    app.gql_with_token(access, ADD_AUTH_HEADER, variables).await
}

async fn enroll(app: &TestApp, access: &str, step_up: Value) -> GqlResponse {
    app.gql_with_token(access, ENROLL, step_up).await
}

async fn confirm(app: &TestApp, access: &str, otp: &str, step_up: Value) -> GqlResponse {
    let mut variables = json!({ "otp": otp });
    merge(&mut variables, step_up);
    app.gql_with_token(access, CONFIRM, variables).await
}

async fn reauthenticate(
    app: &TestApp,
    access: &str,
    password: &str,
    otp: Option<&str>,
) -> GqlResponse {
    app.gql_with_token(
        access,
        REAUTHENTICATE,
        json!({ "password": password, "otp": otp }),
    )
    .await
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

/// `REAUTH_REQUIRED`, 401, saying within how many seconds the authentication must be.
#[track_caller]
fn assert_reauth_required(response: &GqlResponse) {
    response.assert_error("REAUTH_REQUIRED", 401);
    assert_eq!(
        response.body["errors"][0]["extensions"]["reauthWithin"],
        json!(WINDOW_SECS),
        "{:#}",
        response.body
    );
    assert!(
        response.error_message().contains("reauthenticate"),
        "the message says what to do: {}",
        response.error_message()
    );
}

/// The caller's current session as `sessions` lists it.
async fn current_session(app: &TestApp, access: &str) -> Value {
    let listed = app.gql_with_token(access, SESSIONS, json!({})).await;
    listed.assert_ok()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == json!(true))
        .cloned()
        .expect("the caller's session is listed")
}

fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .to_utc()
}

/// An enrolment's secret, from an `enrollTotp` answer.
fn secret_of(response: &GqlResponse) -> String {
    str_field(&response.assert_ok()["enrollTotp"], "secret").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_token_of_an_old_login_cannot_make_a_personal_token_or_turn_totp_on() {
    // Arrange: a pending enrolment made right after login, then the thief's situation.
    let app = TestApp::spawn().await;
    let (_, access, refresh) = logged_in(&app).await;
    let secret = secret_of(&enroll(&app, &access, json!({})).await);
    let (stolen, _) = much_later_refreshed(&app, &refresh).await;

    // Act + Assert: each is refused, and nothing was made.
    assert_reauth_required(&add_auth_header(&app, &stolen, json!({})).await);
    assert_reauth_required(&enroll(&app, &stolen, json!({})).await);
    let code = code_at(&secret, current_step(&app));
    assert_reauth_required(&confirm(&app, &stolen, &code, json!({})).await);
    let headers = app
        .gql_with_token(&stolen, "{ authHeaders { id } }", json!({}))
        .await;
    assert_eq!(headers.assert_ok()["authHeaders"], json!([]));
    let me = app.me(Some(&stolen)).await;
    assert_eq!(me.assert_ok()["me"]["totpEnabled"], json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn just_inside_the_window_it_works_and_just_past_it_it_does_not() {
    let app = TestApp::spawn().await;
    let (_, access, _) = logged_in(&app).await;
    app.clock.stop();

    app.clock.advance(Duration::from_secs(WINDOW_SECS - 5));
    add_auth_header(&app, &access, json!({})).await.assert_ok();

    app.clock.advance(Duration::from_secs(10));
    assert_reauth_required(&add_auth_header(&app, &access, json!({})).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_in_the_same_call_is_enough() {
    let app = TestApp::spawn().await;
    let (user, _, refresh) = logged_in(&app).await;
    let (access, _) = much_later_refreshed(&app, &refresh).await;
    let password = json!({ "password": user.password });

    let made = add_auth_header(&app, &access, password.clone()).await;
    assert!(str_field(&made.assert_ok()["addAuthHeader"], "token").starts_with("lk_"));
    let secret = secret_of(&enroll(&app, &access, password.clone()).await);
    let code = code_at(&secret, current_step(&app));
    let codes = confirm(&app, &access, &code, password).await;
    assert_eq!(
        codes.assert_ok()["confirmTotp"].as_array().unwrap().len(),
        10
    );

    // A proof in one call does not make the session recent for the next.
    assert_reauth_required(&add_auth_header(&app, &access, json!({})).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_in_the_call_is_unauthenticated_and_makes_nothing() {
    let app = TestApp::spawn().await;
    let (_, _, refresh) = logged_in(&app).await;
    let (access, _) = much_later_refreshed(&app, &refresh).await;

    let refused = add_auth_header(&app, &access, json!({ "password": "not-the-password" })).await;

    refused.assert_error("UNAUTHENTICATED", 401);
    let headers = app
        .gql_with_token(&access, "{ authHeaders { id } }", json!({}))
        .await;
    assert_eq!(headers.assert_ok()["authHeaders"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthenticate_makes_the_same_session_recent_again() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, _, refresh) = logged_in(&app).await;
    let (access, _) = much_later_refreshed(&app, &refresh).await;
    let before = current_session(&app, &access).await;

    // Act
    let answer = reauthenticate(&app, &access, &user.password, None).await;

    // Assert: the same session, authenticated now; no token issued; step-up works again.
    let session = &answer.assert_ok()["reauthenticate"];
    assert_eq!(session["id"], before["id"]);
    assert_eq!(session["current"], json!(true));
    let now = app.clock.now();
    let authenticated_at = instant(&session["authenticatedAt"]);
    assert!(
        (now - authenticated_at).num_seconds().abs() <= 2,
        "{authenticated_at} vs {now}"
    );
    assert!(answer.headers.get("authorization").is_none());
    assert!(answer.headers.get("set-cookie").is_none());
    assert_eq!(
        instant(&current_session(&app, &access).await["authenticatedAt"]),
        authenticated_at
    );
    add_auth_header(&app, &access, json!({})).await.assert_ok();
    enroll(&app, &access, json!({})).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_does_not_move_authenticated_at() {
    let app = TestApp::spawn().await;
    let (_, access, refresh) = logged_in(&app).await;
    let at_login = current_session(&app, &access).await;
    assert!(
        (instant(&at_login["authenticatedAt"]) - instant(&at_login["created"]))
            .num_seconds()
            .abs()
            <= 1,
        "a login authenticates: {at_login:#}"
    );

    let (later, _) = much_later_refreshed(&app, &refresh).await;

    let after = current_session(&app, &later).await;
    assert_eq!(after["id"], at_login["id"]);
    assert_eq!(
        instant(&after["authenticatedAt"]),
        instant(&at_login["authenticatedAt"])
    );
    assert!(instant(&after["lastUsedAt"]) > instant(&at_login["lastUsedAt"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_in_reauthenticate_count_toward_the_account_lock() {
    // Arrange: a lock after two failures, and a clock that does not run while we look.
    let app = TestApp::spawn_with(|s| s.login_free_failures = 2).await;
    let (user, access, _) = logged_in(&app).await;
    app.clock.stop();

    // Act
    for _ in 0..2 {
        reauthenticate(&app, &access, "not-the-password", None)
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: locked for reauthenticate, and for a login from anywhere.
    reauthenticate(&app, &access, &user.password, None)
        .await
        .assert_error("RATE_LIMITED", 429);
    let elsewhere = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({
            "query": crate::helpers::login_document(),
            "variables": { "input": { "username": user.username, "password": user.password } },
        }))
        .send()
        .await
        .unwrap();
    GqlResponse::from_response(elsewhere)
        .await
        .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_totp_on_reauthenticating_needs_the_otp() {
    // Arrange: TOTP on, the session long past the window.
    let app = TestApp::spawn().await;
    let (user, access, refresh) = logged_in(&app).await;
    let secret = secret_of(&enroll(&app, &access, json!({})).await);
    confirm(
        &app,
        &access,
        &code_at(&secret, current_step(&app)),
        json!({}),
    )
    .await
    .assert_ok();
    let (access, _) = much_later_refreshed(&app, &refresh).await;
    let step = current_step(&app);

    // Act + Assert
    reauthenticate(&app, &access, &user.password, None)
        .await
        .assert_error("OTP_REQUIRED", 401);
    reauthenticate(
        &app,
        &access,
        &user.password,
        Some(&wrong_code(&secret, step)),
    )
    .await
    .assert_error("INVALID_OTP", 401);
    add_auth_header(&app, &access, json!({ "password": user.password }))
        .await
        .assert_error("OTP_REQUIRED", 401);
    assert_reauth_required(&add_auth_header(&app, &access, json!({})).await);

    reauthenticate(&app, &access, &user.password, Some(&code_at(&secret, step)))
        .await
        .assert_ok();
    add_auth_header(&app, &access, json!({})).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_token_has_no_session_to_reauthenticate() {
    let app = TestApp::spawn().await;
    let (user, access, _) = logged_in(&app).await;
    let made = add_auth_header(&app, &access, json!({})).await;
    let personal = str_field(&made.assert_ok()["addAuthHeader"], "token").to_owned();

    let refused = reauthenticate(&app, &personal, &user.password, None).await;
    refused.assert_error("FORBIDDEN", 403);
    assert!(
        refused.error_message().contains("personal token"),
        "{}",
        refused.text
    );
    // As before step-up: a personal token makes no personal token, even with the password.
    add_auth_header(&app, &personal, json!({ "password": user.password }))
        .await
        .assert_error("FORBIDDEN", 403);
    // Nothing it does is recent: confirming an enrolment needs the password in the call.
    let secret = secret_of(&enroll(&app, &access, json!({})).await);
    let code = code_at(&secret, current_step(&app));
    assert_reauth_required(&confirm(&app, &personal, &code, json!({})).await);
    confirm(&app, &personal, &code, json!({ "password": user.password }))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthenticating_on_one_instance_counts_at_once_on_another() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (user, _, refresh) = logged_in(&app).await;
    let (access, _) = much_later_refreshed(&app, &refresh).await;
    assert_reauth_required(&add_auth_header(&other, &access, json!({})).await);

    reauthenticate(&app, &access, &user.password, None)
        .await
        .assert_ok();

    add_auth_header(&other, &access, json!({}))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthenticate_needs_a_credential_and_a_password() {
    let app = TestApp::spawn().await;
    app.gql(REAUTHENTICATE, json!({ "password": "whatever" }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    let (_, access, _) = logged_in(&app).await;
    let blank = reauthenticate(&app, &access, "", None).await;
    blank.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_before_the_migration_counts_as_authenticated_at_its_login() {
    // Arrange: a session, then the database put back as it was before sessions recorded
    // their authentication, some minutes later.
    let mut app = TestApp::spawn().await;
    let (_, access, _) = logged_in(&app).await;
    let created = instant(&current_session(&app, &access).await["created"]);
    app.clock.advance(Duration::from_secs(120));
    let db = sea_orm::Database::connect(app.database_url())
        .await
        .unwrap();
    for statement in [
        "ALTER TABLE sessions DROP COLUMN authentication_method",
        "ALTER TABLE sessions DROP COLUMN authenticated_at",
        "DELETE FROM seaql_migrations WHERE version = 'm20261203_000001_session_authentication'",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    db.close().await.unwrap();

    // Act: the next start migrates.
    app.restart().await;

    // Assert: the row holds its login time (not the migration's, not null), the API says
    // so, and it ages like any other.
    let db = sea_orm::Database::connect(app.database_url())
        .await
        .unwrap();
    let backfilled = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM sessions WHERE authenticated_at = created_at",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(backfilled, 1);
    let session = current_session(&app, &access).await;
    assert_eq!(instant(&session["authenticatedAt"]), created);
    add_auth_header(&app, &access, json!({})).await.assert_ok();
    app.clock.advance(Duration::from_secs(WINDOW_SECS));
    assert_reauth_required(&add_auth_header(&app, &access, json!({})).await);
}
