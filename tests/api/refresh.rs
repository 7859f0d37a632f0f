use crate::helpers::{TestApp, TestUser, str_field};
use serde_json::json;
use std::time::Duration;

/// The grace window of the tests that wait it out (the default), and how long they wait.
const GRACE: Duration = Duration::from_secs(10);
const PAST_GRACE: Duration = Duration::from_secs(11);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_returns_a_new_pair_of_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let login = app.login_username(&user).await;

    // Act
    let response = app.refresh(str_field(&login, "refreshToken")).await;

    // Assert
    let refreshed = &response.assert_ok()["refresh"];
    assert_ne!(refreshed["refreshToken"], login["refreshToken"]);
    assert_ne!(refreshed["accessToken"], login["accessToken"]);
    assert_eq!(refreshed["tokenType"], json!("Bearer"));
    assert_eq!(refreshed["expires"], json!(900_000));
    assert_eq!(refreshed["user"]["id"], registered["id"]);
    assert_eq!(refreshed["credentials"]["identityId"], registered["id"]);
    assert_eq!(refreshed["credentials"]["token"], refreshed["accessToken"]);
    assert_eq!(
        refreshed["credentials"]["refreshToken"],
        refreshed["refreshToken"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_answers_with_the_new_access_token_in_the_authorization_header() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;

    // Act
    let response = app.refresh(str_field(&login, "refreshToken")).await;

    // Assert
    let access_token = str_field(&response.assert_ok()["refresh"], "accessToken").to_owned();
    let header = response
        .headers
        .get("authorization")
        .expect("an Authorization response header")
        .to_str()
        .expect("an ASCII header");
    assert_eq!(header, format!("Bearer {access_token}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_token_from_refresh_works_for_me() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let login = app.login_username(&user).await;
    let refreshed = app
        .refresh(str_field(&login, "refreshToken"))
        .await
        .assert_ok()["refresh"]
        .clone();

    // Act
    let response = app.me(Some(str_field(&refreshed, "accessToken"))).await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], registered["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_token_from_refresh_can_be_refreshed_again() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = Duration::ZERO).await;
    let (_, login) = app.signed_in_user().await;
    let second = app
        .refresh(str_field(&login, "refreshToken"))
        .await
        .assert_ok()["refresh"]
        .clone();

    // Act
    let response = app.refresh(str_field(&second, "refreshToken")).await;

    // Assert
    let third = &response.assert_ok()["refresh"];
    assert_ne!(third["refreshToken"], second["refreshToken"]);
    assert_ne!(third["refreshToken"], login["refreshToken"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_with_an_unknown_token_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.refresh("not-a-refresh-token").await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_with_an_access_token_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;

    // Act
    let response = app.refresh(str_field(&login, "accessToken")).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_with_a_rotated_token_within_the_grace_window_still_works() {
    // Arrange: the default grace window is 10 s, far longer than this test.
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let first_refresh = app.refresh(str_field(&login, "refreshToken")).await;
    first_refresh.assert_ok();

    // Act
    let response = app.refresh(str_field(&login, "refreshToken")).await;

    // Assert: the same successor as the first refresh, and a fresh access token.
    let refreshed = &response.assert_ok()["refresh"];
    assert!(!str_field(refreshed, "accessToken").is_empty());
    assert_eq!(
        str_field(refreshed, "refreshToken"),
        str_field(&first_refresh.assert_ok()["refresh"], "refreshToken")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_within_the_grace_window_forks_no_chain_that_escapes_reuse_detection() {
    // Arrange: a stolen token replayed within the grace window, after its owner refreshed.
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = GRACE).await;
    let (_, login) = app.signed_in_user().await;
    let stolen = str_field(&login, "refreshToken").to_owned();
    let owner = app.refresh(&stolen).await;
    let owners_token = str_field(&owner.assert_ok()["refresh"], "refreshToken").to_owned();
    let thief = app.refresh(&stolen).await;
    let thiefs_token = str_field(&thief.assert_ok()["refresh"], "refreshToken").to_owned();

    // Act: the owner refreshes on; later the thief uses what the replay gave.
    app.refresh(&owners_token).await.assert_ok();
    app.clock.advance(PAST_GRACE);
    let response = app.refresh(&thiefs_token).await;

    // Assert: the thief held the owner's superseded token, not a chain of its own, so
    // using it is a reuse and the session ends.
    assert_eq!(thiefs_token, owners_token);
    response.assert_error("REFRESH_TOKEN_REUSED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_with_a_rotated_token_after_the_grace_window_is_refresh_token_reused() {
    // Arrange: a token rotated longer ago than the grace window.
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = GRACE).await;
    let (_, login) = app.signed_in_user().await;
    app.refresh(str_field(&login, "refreshToken"))
        .await
        .assert_ok();
    app.clock.advance(PAST_GRACE);

    // Act
    let response = app.refresh(str_field(&login, "refreshToken")).await;

    // Assert
    response.assert_error("REFRESH_TOKEN_REUSED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_with_a_rotated_token_after_the_grace_window_revokes_the_session() {
    // Arrange: a token rotated longer ago than the grace window, replayed.
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = GRACE).await;
    let (_, login) = app.signed_in_user().await;
    let rotated = app
        .refresh(str_field(&login, "refreshToken"))
        .await
        .assert_ok()["refresh"]
        .clone();
    app.clock.advance(PAST_GRACE);
    app.refresh(str_field(&login, "refreshToken"))
        .await
        .assert_error("REFRESH_TOKEN_REUSED", 401);

    // Act
    let response = app.refresh(str_field(&rotated, "refreshToken")).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_reuse_also_revokes_the_access_tokens_of_the_session() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = Duration::ZERO).await;
    let (_, login) = app.signed_in_user().await;
    let rotated = app
        .refresh(str_field(&login, "refreshToken"))
        .await
        .assert_ok()["refresh"]
        .clone();
    app.me(Some(str_field(&rotated, "accessToken")))
        .await
        .assert_ok();
    app.refresh(str_field(&login, "refreshToken"))
        .await
        .assert_error("REFRESH_TOKEN_REUSED", 401);

    // Act
    let response = app.me(Some(str_field(&rotated, "accessToken"))).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_reuse_leaves_other_sessions_of_the_user_alone() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = Duration::ZERO).await;
    let (user, stolen) = app.signed_in_user().await;
    let other = app.login_username(&user).await;
    app.refresh(str_field(&stolen, "refreshToken"))
        .await
        .assert_ok();
    app.refresh(str_field(&stolen, "refreshToken"))
        .await
        .assert_error("REFRESH_TOKEN_REUSED", 401);

    // Act
    let response = app.refresh(str_field(&other, "refreshToken")).await;

    // Assert
    response.assert_ok();
}
