use crate::helpers::{TestApp, TestUser, str_field};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_user_can_log_in_by_username() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "username": user.username, "password": user.password }))
        .await;

    // Assert
    let payload = &response.assert_ok()["login"];
    assert_eq!(payload["user"]["id"], registered["id"]);
    assert_eq!(payload["user"]["username"], json!(user.username));
    assert!(!str_field(payload, "accessToken").is_empty());
    assert!(!str_field(payload, "refreshToken").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_user_can_log_in_by_email() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "email": user.email, "password": user.password }))
        .await;

    // Assert
    let payload = &response.assert_ok()["login"];
    assert_eq!(payload["user"]["id"], registered["id"]);
    assert!(!str_field(payload, "accessToken").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_by_username_ignores_letter_case() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "username": user.username.to_uppercase(), "password": user.password }))
        .await;

    // Assert
    let payload = &response.assert_ok()["login"];
    assert_eq!(payload["user"]["id"], registered["id"]);
    assert_eq!(payload["user"]["username"], json!(user.username));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_by_email_ignores_letter_case() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "email": user.email.to_uppercase(), "password": user.password }))
        .await;

    // Assert
    assert_eq!(
        response.assert_ok()["login"]["user"]["id"],
        registered["id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_both_username_and_email_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let response = app
        .login(json!({
            "username": user.username,
            "email": user.email,
            "password": user.password,
        }))
        .await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_neither_username_nor_email_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let response = app.login(json!({ "password": user.password })).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_a_wrong_password_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "username": user.username, "password": "Wrong-password-1" }))
        .await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
    assert!(
        response.headers.get("set-cookie").is_none(),
        "a failed login sets no cookie: {response:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_an_unknown_user_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let stranger = TestUser::generate();

    // Act
    let response = app
        .login(json!({ "username": stranger.username, "password": stranger.password }))
        .await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
    assert!(
        response.headers.get("set-cookie").is_none(),
        "a failed login sets no cookie: {response:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_message() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;
    let stranger = TestUser::generate();

    // Act
    let wrong_password = app
        .login(json!({ "username": user.username, "password": "Wrong-password-1" }))
        .await;
    let unknown_user = app
        .login(json!({ "username": stranger.username, "password": "Wrong-password-1" }))
        .await;
    let unknown_email = app
        .login(json!({ "email": stranger.email, "password": "Wrong-password-1" }))
        .await;

    // Assert
    wrong_password.assert_error("UNAUTHENTICATED", 401);
    unknown_user.assert_error("UNAUTHENTICATED", 401);
    unknown_email.assert_error("UNAUTHENTICATED", 401);
    assert_eq!(wrong_password.error_message(), unknown_user.error_message());
    assert_eq!(
        wrong_password.error_message(),
        unknown_email.error_message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_answers_with_the_access_token_in_the_authorization_header() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "username": user.username, "password": user.password }))
        .await;

    // Assert
    let access_token = str_field(&response.assert_ok()["login"], "accessToken").to_owned();
    let header = response
        .headers
        .get("authorization")
        .expect("an Authorization response header")
        .to_str()
        .expect("an ASCII header");
    assert_eq!(header, format!("Bearer {access_token}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_reports_a_bearer_token_living_fifteen_minutes_in_milliseconds() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let payload = app.login_username(&user).await;

    // Assert
    assert_eq!(payload["tokenType"], json!("Bearer"));
    assert_eq!(payload["expires"], json!(900_000));
    assert!(
        str_field(&payload, "expiresAt").contains('T'),
        "expiresAt is an RFC 3339 date-time: {payload:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_credentials_repeat_the_user_id_and_the_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let registered = app.register(&user).await;

    // Act
    let payload = app.login_username(&user).await;

    // Assert
    let credentials = &payload["credentials"];
    assert_eq!(credentials["identityId"], registered["id"]);
    assert_eq!(credentials["identityId"], payload["user"]["id"]);
    assert_eq!(credentials["token"], payload["accessToken"]);
    assert_eq!(credentials["refreshToken"], payload["refreshToken"]);
    assert_ne!(payload["accessToken"], payload["refreshToken"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_a_ten_thousand_character_username_is_refused_without_a_server_error() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .login(json!({ "username": "a".repeat(10_000), "password": "Some-password-1" }))
        .await;

    // Assert
    if response.body["errors"][0]["extensions"]["code"] == json!("UNAUTHENTICATED") {
        response.assert_error("UNAUTHENTICATED", 401);
    } else {
        response.assert_error("BAD_USER_INPUT", 400);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_byte_in_the_username_or_email_is_bad_input_not_a_server_error() {
    // Arrange: PostgreSQL refuses NUL in text, so this once surfaced as a 500 there.
    let app = TestApp::spawn().await;

    for input in [
        json!({ "username": "nul\u{0}user", "password": "whatever12" }),
        json!({ "email": "nul\u{0}user@example.com", "password": "whatever12" }),
    ] {
        // Act
        let response = app.login(input).await;

        // Assert
        response.assert_error("BAD_USER_INPUT", 400);
    }
}
