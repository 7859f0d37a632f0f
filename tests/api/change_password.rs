//! `changePassword` and password expiry (seed 004): a password older than
//! `password_max_age` is `PASSWORD_EXPIRED`, and changing it is the way back in.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};

const CHANGE: &str =
    "mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }";
const NEW_PASSWORD: &str = "a brand new passphrase 7";

async fn change(app: &TestApp, token: Option<&str>, input: Value) -> GqlResponse {
    let variables = json!({ "input": input });
    match token {
        Some(token) => app.gql_with_token(token, CHANGE, variables).await,
        None => app.gql(CHANGE, variables).await,
    }
}

async fn login_with(app: &TestApp, user: &TestUser, password: &str) -> GqlResponse {
    app.login(json!({ "username": user.username, "password": password }))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_in_user_changes_the_password_and_every_other_session_ends() {
    // Arrange: two sessions; the change is made from the second.
    let app = TestApp::spawn().await;
    let (user, elsewhere) = app.signed_in_user().await;
    let here = app.login_username(&user).await;

    // Act
    let response = change(
        &app,
        Some(str_field(&here, "accessToken")),
        json!({ "currentPassword": user.password, "newPassword": NEW_PASSWORD }),
    )
    .await;

    // Assert
    assert_eq!(response.assert_ok()["changePassword"], true);
    app.me(Some(str_field(&here, "accessToken")))
        .await
        .assert_ok();
    app.me(Some(str_field(&elsewhere, "accessToken")))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.refresh(str_field(&elsewhere, "refreshToken"))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    login_with(&app, &user, &user.password)
        .await
        .assert_error("UNAUTHENTICATED", 401);
    login_with(&app, &user, NEW_PASSWORD).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_current_password_changes_nothing_with_the_login_message() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;
    let wrong_login = login_with(&app, &user, "not the password 9").await;

    // Act
    let response = change(
        &app,
        Some(str_field(&login, "accessToken")),
        json!({ "currentPassword": "not the password 9", "newPassword": NEW_PASSWORD }),
    )
    .await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
    assert_eq!(response.error_message(), wrong_login.error_message());
    login_with(&app, &user, &user.password).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_account_gets_the_same_answer_as_a_wrong_password() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;
    let stranger = TestUser::generate();

    // Act
    let wrong = change(
        &app,
        None,
        json!({ "username": user.username, "currentPassword": "not it at all 1", "newPassword": NEW_PASSWORD }),
    )
    .await;
    let unknown = change(
        &app,
        None,
        json!({ "username": stranger.username, "currentPassword": "not it at all 1", "newPassword": NEW_PASSWORD }),
    )
    .await;

    // Assert
    wrong.assert_error("UNAUTHENTICATED", 401);
    unknown.assert_error("UNAUTHENTICATED", 401);
    assert_eq!(wrong.error_message(), unknown.error_message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_password_must_pass_the_policy_and_differ_from_the_current_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");

    // Act
    let common = change(
        &app,
        Some(token),
        json!({ "currentPassword": user.password, "newPassword": "password123" }),
    )
    .await;
    let same = change(
        &app,
        Some(token),
        json!({ "currentPassword": user.password, "newPassword": user.password }),
    )
    .await;
    let short = change(
        &app,
        Some(token),
        json!({ "currentPassword": user.password, "newPassword": "short" }),
    )
    .await;

    // Assert
    for response in [&common, &same, &short] {
        response.assert_error("BAD_USER_INPUT", 400);
        assert_eq!(
            response.body["errors"][0]["extensions"]["field"],
            "newPassword"
        );
    }
    login_with(&app, &user, &user.password).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_or_an_account_name_the_input_is_bad() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let neither = change(
        &app,
        None,
        json!({ "currentPassword": user.password, "newPassword": NEW_PASSWORD }),
    )
    .await;
    let both = change(
        &app,
        None,
        json!({ "username": user.username, "email": user.email, "currentPassword": user.password, "newPassword": NEW_PASSWORD }),
    )
    .await;

    // Assert
    neither.assert_error("BAD_USER_INPUT", 400);
    both.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_password_is_refused_at_login_then_changed_by_name() {
    // Arrange: passwords expire after one second.
    let app = TestApp::spawn_with(|s| s.password_max_age = Some(Duration::from_secs(1))).await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    assert!(
        registered["passwordExpiration"].is_string(),
        "{registered:#}"
    );
    app.clock.advance(Duration::from_millis(1500));

    // Act
    let expired = login_with(&app, &user, &user.password).await;
    let changed = change(
        &app,
        None,
        json!({ "email": user.email, "currentPassword": user.password, "newPassword": NEW_PASSWORD }),
    )
    .await;
    let after = login_with(&app, &user, NEW_PASSWORD).await;

    // Assert: 403 and no tokens, then a way back in with a fresh expiration.
    expired.assert_error("PASSWORD_EXPIRED", 403);
    assert_eq!(changed.assert_ok()["changePassword"], true);
    let payload = &after.assert_ok()["login"];
    let expiration = str_field(payload, "passwordExpiration");
    assert!(expiration > str_field(&registered, "passwordExpiration"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_for_an_expired_account_is_unauthenticated_not_expired() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.password_max_age = Some(Duration::from_secs(1))).await;
    let user = TestUser::generate();
    app.register(&user).await;
    app.clock.advance(Duration::from_millis(1500));

    // Act
    let response = login_with(&app, &user, "certainly wrong 42").await;

    // Assert: only the right password learns that it has expired.
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_changes_racing_from_the_same_old_password_do_not_both_win() {
    // Arrange
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let racers: Vec<_> = ["first new passphrase 1", "second new passphrase 2"]
        .into_iter()
        .map(|new| {
            let (app, user) = (app.clone(), user.clone());
            tokio::spawn(async move {
                let input = json!({ "username": user.username, "currentPassword": user.password, "newPassword": new });
                (new, change(&app, None, input).await)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for racer in racers {
        answers.push(racer.await.unwrap());
    }

    // Assert: exactly one change took effect, and it is the one that said so.
    let winners: Vec<&str> = answers
        .iter()
        .filter(|(_, r)| r.body["data"]["changePassword"] == true)
        .map(|(new, _)| *new)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:#?}");
    login_with(&app, &user, winners[0]).await.assert_ok();
}

const ADD_TOKEN: &str = "mutation { addAuthHeader(name: \"script\") { token } }";

async fn personal_token(app: &TestApp, access_token: &str) -> String {
    let made = app.gql_with_token(access_token, ADD_TOKEN, json!({})).await;
    str_field(&made.assert_ok()["addAuthHeader"], "token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_personal_tokens_unless_asked_not_to() {
    // Arrange: two accounts, each with a personal token.
    let app = TestApp::spawn().await;
    let (ended_user, ended_login) = app.signed_in_user().await;
    let ended_access = str_field(&ended_login, "accessToken").to_owned();
    let ended_token = personal_token(&app, &ended_access).await;
    let (kept_user, kept_login) = app.signed_in_user().await;
    let kept_access = str_field(&kept_login, "accessToken").to_owned();
    let kept_token = personal_token(&app, &kept_access).await;

    // Act: the default, and the opt-out.
    change(
        &app,
        Some(&ended_access),
        json!({ "currentPassword": ended_user.password, "newPassword": NEW_PASSWORD }),
    )
    .await
    .assert_ok();
    change(
        &app,
        Some(&kept_access),
        json!({
            "currentPassword": kept_user.password,
            "newPassword": NEW_PASSWORD,
            "endPersonalTokens": false
        }),
    )
    .await
    .assert_ok();

    // Assert
    app.me(Some(&ended_token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(&kept_token)).await.assert_ok();
}
