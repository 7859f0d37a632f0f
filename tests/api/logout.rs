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
