use crate::helpers::{TestApp, TestUser, str_field};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_user_can_still_log_in_after_a_restart() {
    // Arrange
    let mut app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let port_before = app.port;

    // Act
    app.restart().await;
    let response = app
        .login(json!({ "username": user.username, "password": user.password }))
        .await;

    // Assert
    assert_ne!(app.port, port_before, "the restarted server listens anew");
    assert_eq!(
        response.assert_ok()["login"]["user"]["id"],
        registered["id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_minted_before_a_restart_still_works() {
    // Arrange
    let mut app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let login = app.login_username(&user).await;

    // Act
    app.restart().await;
    let response = app.me(Some(str_field(&login, "accessToken"))).await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], registered["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_issued_before_a_restart_still_works() {
    // Arrange
    let mut app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let login = app.login_username(&user).await;

    // Act
    app.restart().await;
    let response = app.refresh(str_field(&login, "refreshToken")).await;

    // Assert
    assert_eq!(
        response.assert_ok()["refresh"]["user"]["id"],
        registered["id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_logged_out_before_a_restart_stays_revoked() {
    // Arrange
    let mut app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    app.logout(str_field(&login, "refreshToken"))
        .await
        .assert_ok();

    // Act
    app.restart().await;
    let me = app.me(Some(str_field(&login, "accessToken"))).await;
    let refresh = app.refresh(str_field(&login, "refreshToken")).await;

    // Assert
    me.assert_error("UNAUTHENTICATED", 401);
    refresh.assert_error("UNAUTHENTICATED", 401);
}
