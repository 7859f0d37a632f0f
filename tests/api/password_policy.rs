//! The password rules of NIST SP 800-63B, each with the message that names it.

use serde_json::json;

use crate::helpers::{TestApp, TestUser};

/// Registers a fresh user with this password; the answer.
async fn register_with(app: &TestApp, password: &str) -> crate::helpers::GqlResponse {
    let mut user = TestUser::generate();
    user.password = password.to_owned();
    app.register_response(&user).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_refuses_with_a_message_naming_it() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let cases = [
        ("seven77", "at least 8 characters"),
        (&"x".repeat(257) as &str, "at most 256 characters"),
        ("Password1", "most common passwords"),
        ("ILOVEYOU2", "most common passwords"),
    ];

    // Act + Assert
    for (password, says) in cases {
        let response = register_with(&app, password).await;
        response.assert_error("BAD_USER_INPUT", 400);
        assert_eq!(
            response.body["errors"][0]["extensions"]["field"],
            "password"
        );
        assert!(
            response.error_message().contains(says),
            "{password:?}: {}",
            response.error_message()
        );
    }
    let mut same_as_name = user.clone();
    same_as_name.password = user.username.to_uppercase();
    let response = app.register_response(&same_as_name).await;
    response.assert_error("BAD_USER_INPUT", 400);
    assert!(
        response.error_message().contains("username"),
        "{}",
        response.text
    );
    let mut same_as_email = TestUser::generate();
    same_as_email.password = same_as_email.email.clone();
    let response = app.register_response(&same_as_email).await;
    response.assert_error("BAD_USER_INPUT", 400);
    assert!(
        response.error_message().contains("email"),
        "{}",
        response.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn length_counts_unicode_characters_and_there_are_no_composition_rules() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act: 8 characters in 24 bytes; 256 four-byte characters; all one case, no digits.
    let eight_chars = register_with(&app, "日本語のパスワ秘").await;
    let longest = register_with(&app, &"🔑".repeat(256)).await;
    let plain_words = register_with(&app, "purple monkey dishwasher").await;
    let seven_chars = register_with(&app, "日本語のパスワ").await;

    // Assert
    eight_chars.assert_ok();
    longest.assert_ok();
    plain_words.assert_ok();
    seven_chars.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_does_not_judge_an_existing_password() {
    // Arrange: a password that is fine today; login must only compare, never re-judge.
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let response = app
        .login(json!({ "username": user.username, "password": user.password }))
        .await;

    // Assert
    response.assert_ok();
}
