use crate::helpers::{TestApp, str_field};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_a_live_refresh_token_returns_true() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;

    // Act
    let response = app.logout(str_field(&login, "refreshToken")).await;

    // Assert
    assert_eq!(response.assert_ok()["logout"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_an_unknown_refresh_token_returns_false() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.logout("not-a-refresh-token").await;

    // Assert
    assert_eq!(response.assert_ok()["logout"], json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_logout_the_refresh_token_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let refresh_token = str_field(&login, "refreshToken");
    assert_eq!(
        app.logout(refresh_token).await.assert_ok()["logout"],
        json!(true)
    );

    // Act
    let response = app.refresh(refresh_token).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_logout_the_access_token_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let access_token = str_field(&login, "accessToken");
    app.me(Some(access_token)).await.assert_ok();
    assert_eq!(
        app.logout(str_field(&login, "refreshToken"))
            .await
            .assert_ok()["logout"],
        json!(true)
    );

    // Act
    let response = app.me(Some(access_token)).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_leaves_other_sessions_of_the_user_alone() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, leaving) = app.signed_in_user().await;
    let staying = app.login_username(&user).await;
    app.logout(str_field(&leaving, "refreshToken"))
        .await
        .assert_ok();

    // Act
    let me = app.me(Some(str_field(&staying, "accessToken"))).await;
    let refresh = app.refresh(str_field(&staying, "refreshToken")).await;

    // Assert
    me.assert_ok();
    refresh.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_of_all_sessions_revokes_every_session_of_the_user_and_no_one_elses() {
    // Arrange: two sessions of one user, one of another.
    let app = TestApp::spawn().await;
    let (user, first) = app.signed_in_user().await;
    let second = app.login_username(&user).await;
    let (_, bystander) = app.signed_in_user().await;

    // Act
    let response = app
        .gql(
            "mutation($t: String) { logout(refreshToken: $t, allSessions: true) }",
            json!({ "t": str_field(&first, "refreshToken") }),
        )
        .await;

    // Assert
    assert_eq!(response.assert_ok()["logout"], json!(true));
    for payload in [&first, &second] {
        app.refresh(str_field(payload, "refreshToken"))
            .await
            .assert_error("UNAUTHENTICATED", 401);
        app.me(Some(str_field(payload, "accessToken")))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    app.me(Some(str_field(&bystander, "accessToken")))
        .await
        .assert_ok();
}

const LOGOUT_ALL: &str =
    "mutation($refreshToken: String) { logout(refreshToken: $refreshToken, allSessions: true) }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_superseded_longer_ago_than_the_grace_window_ends_nothing() {
    // Arrange: a token rotated away, and the grace window long past.
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let old = str_field(&login, "refreshToken");
    let rotated = app.refresh(old).await;
    let current = str_field(&rotated.assert_ok()["refresh"], "refreshToken").to_owned();
    app.clock.advance(std::time::Duration::from_secs(60));

    // Act
    let response = app.logout(old).await;

    // Assert: nothing ended; the holder of the current token is still logged in.
    assert_eq!(response.assert_ok()["logout"], json!(false));
    app.refresh(&current).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_superseded_within_the_grace_window_still_logs_out() {
    // Arrange: two tabs, one of which refreshed a moment ago.
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let old = str_field(&login, "refreshToken");
    app.refresh(old).await.assert_ok();

    // Act
    let response = app.logout(old).await;

    // Assert
    assert_eq!(response.assert_ok()["logout"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_an_ended_session_cannot_log_its_owner_out_of_newer_sessions() {
    // Arrange: a token whose session ended (here by logout; a password change ends
    // sessions the same way), then a new login.
    let app = TestApp::spawn().await;
    let (user, first) = app.signed_in_user().await;
    let ended = str_field(&first, "refreshToken").to_owned();
    app.logout(&ended).await.assert_ok();
    let second = app.login_username(&user).await;

    // Act
    let response = app.gql(LOGOUT_ALL, json!({ "refreshToken": ended })).await;

    // Assert
    assert_eq!(response.assert_ok()["logout"], json!(false));
    app.me(Some(str_field(&second, "accessToken")))
        .await
        .assert_ok();
    app.refresh(str_field(&second, "refreshToken"))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_sessions_are_deleted_once_the_retention_period_has_passed() {
    // Arrange: one session ended now, another opened.
    let app = TestApp::spawn().await;
    let (user, ended) = app.signed_in_user().await;
    let ended_id = session_id(&ended);
    app.logout(str_field(&ended, "refreshToken"))
        .await
        .assert_ok();
    let live = app.login_username(&user).await;
    let store = latchkey_api::store::Store::connect(app.database_url())
        .await
        .expect("the test database");
    assert!(store.sessions.find(ended_id).await.unwrap().is_some());

    // Act: past the default 30 days of retention, a login (which prunes, in the
    // background, at most once an hour).
    app.clock
        .advance(std::time::Duration::from_secs(31 * 24 * 60 * 60));
    app.login_username(&user).await;

    // Assert: the ended session is gone; the other one, which expired only a day ago
    // (its 30 days of life are up), is kept until its own retention has passed.
    let mut gone = false;
    for _ in 0..100 {
        if store.sessions.find(ended_id).await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "the ended session is still stored");
    assert!(
        store
            .sessions
            .find(session_id(&live))
            .await
            .unwrap()
            .is_some(),
        "a session that ended less than the retention period ago was deleted"
    );
}

fn session_id(login: &serde_json::Value) -> uuid::Uuid {
    let claims = crate::helpers::jwt_part(str_field(login, "accessToken"), 1);
    claims["sid"]
        .as_str()
        .and_then(|sid| sid.parse().ok())
        .expect("an access token names its session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_of_all_sessions_can_end_the_personal_tokens_too() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let made = app
        .gql_with_token(
            access,
            "mutation { addAuthHeader(name: \"script\") { token } }",
            json!({}),
        )
        .await;
    let token = str_field(&made.assert_ok()["addAuthHeader"], "token").to_owned();
    let everything = "mutation($t: String) { logout(refreshToken: $t, allSessions: true, endPersonalTokens: true) }";
    let alone = "mutation($t: String) { logout(refreshToken: $t, endPersonalTokens: true) }";

    // Act
    let refused = app
        .gql(alone, json!({ "t": str_field(&login, "refreshToken") }))
        .await;
    let ended = app
        .gql(
            everything,
            json!({ "t": str_field(&login, "refreshToken") }),
        )
        .await;

    // Assert: on its own it is refused (and ends nothing); with allSessions, the personal
    // token stops too.
    refused.assert_error("BAD_USER_INPUT", 400);
    assert_eq!(ended.assert_ok()["logout"], json!(true));
    app.me(Some(&token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}
