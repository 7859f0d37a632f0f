use crate::helpers::{TestApp, TestUser};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_returns_the_new_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();

    // Act
    let registered = app.register(&user).await;

    // Assert
    assert_eq!(registered["username"], json!(user.username));
    assert_eq!(registered["email"], json!(user.email));
    assert_eq!(registered["firstname"], json!("Ada"));
    assert_eq!(registered["lastname"], json!("Lovelace"));
    assert_eq!(registered["role"], json!("USER"));
    assert_eq!(registered["totpEnabled"], json!(false));
    assert!(
        registered["id"].as_str().is_some_and(|id| !id.is_empty()),
        "a user has an id: {registered:#}"
    );
    assert!(
        registered["created"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "a user has a creation time: {registered:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_stores_the_email_lower_cased() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut user = TestUser::generate();
    user.email = format!("{}@Example.COM", user.username.to_uppercase());

    // Act
    let registered = app.register(&user).await;

    // Assert
    assert_eq!(registered["email"], json!(user.email.to_lowercase()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_trims_spaces_around_the_username() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut user = TestUser::generate();
    let clean = user.username.clone();
    user.username = format!("  {clean}  ");

    // Act
    let registered = app.register(&user).await;

    // Assert
    assert_eq!(registered["username"], json!(clean));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_a_username_taken_in_another_letter_case_is_a_conflict() {
    // Arrange
    let app = TestApp::spawn().await;
    let first = TestUser::generate();
    app.register(&first).await;
    let mut second = TestUser::generate();
    second.username = first.username.to_uppercase();

    // Act
    let response = app.register_response(&second).await;

    // Assert
    response.assert_error("CONFLICT", 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_the_same_username_is_a_conflict() {
    // Arrange
    let app = TestApp::spawn().await;
    let first = TestUser::generate();
    app.register(&first).await;
    let mut second = TestUser::generate();
    second.username = first.username.clone();

    // Act
    let response = app.register_response(&second).await;

    // Assert
    response.assert_error("CONFLICT", 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_an_email_taken_in_another_letter_case_is_a_conflict() {
    // Arrange
    let app = TestApp::spawn().await;
    let first = TestUser::generate();
    app.register(&first).await;
    let mut second = TestUser::generate();
    second.email = first.email.to_uppercase();

    // Act
    let response = app.register_response(&second).await;

    // Assert
    response.assert_error("CONFLICT", 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_a_password_shorter_than_eight_characters_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut user = TestUser::generate();
    user.password = "Ab1-xyz".to_owned();

    // Act
    let response = app.register_response(&user).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_a_unicode_username_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut user = TestUser::generate();
    user.username = "jürgen_用户".to_owned();

    // Act
    let response = app.register_response(&user).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_a_ten_thousand_character_username_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut user = TestUser::generate();
    user.username = "a".repeat(10_000);

    // Act
    let response = app.register_response(&user).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_an_at_sign_in_the_username_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let victim = TestUser::generate();
    let mut user = TestUser::generate();
    user.username = victim.email.clone();

    // Act
    let response = app.register_response(&user).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}
