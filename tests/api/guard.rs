//! The request guard: where a protected field finds its credential (the `Authorization`
//! header, then the `access_token` query parameter, then the access cookie), and the
//! seed-compatible `identityId` check.

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{ME, TestApp, TestUser, str_field};

/// A user logged in with `SESSION` mode in its own browser (the access cookie is in the jar);
/// returns the browser and the user's id.
async fn cookie_user(app: &TestApp) -> (Browser, Value) {
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let browser = Browser::new(app);
    browser.login(&user, "SESSION").await.assert_ok();
    (browser, registered["id"].clone())
}

/// A user logged in with `JSON` mode: its access token and id.
async fn token_user(app: &TestApp) -> (String, Value) {
    let (_, payload) = app.signed_in_user().await;
    (
        str_field(&payload, "accessToken").to_owned(),
        payload["user"]["id"].clone(),
    )
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

// ----- Each source alone -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_with_only_a_bearer_header_returns_the_token_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, id) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(ME, json!({}), &[("authorization", &bearer(&token))], &[])
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_with_only_an_access_token_query_parameter_returns_the_token_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, id) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(ME, json!({}), &[], &[("access_token", &token)])
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_with_only_the_access_cookie_returns_the_cookie_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let (browser, id) = cookie_user(&app).await;

    // Act
    let response = browser.me().await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], id);
}

// ----- Precedence -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_header_wins_over_a_query_parameter_of_another_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let (header_token, header_id) = token_user(&app).await;
    let (param_token, param_id) = token_user(&app).await;
    assert_ne!(header_id, param_id);
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[("authorization", &bearer(&header_token))],
            &[("access_token", &param_token)],
        )
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], header_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_header_wins_over_an_access_cookie_of_another_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let (header_token, header_id) = token_user(&app).await;
    let (browser, cookie_id) = cookie_user(&app).await;
    assert_ne!(header_id, cookie_id);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[("authorization", &bearer(&header_token))],
            &[],
        )
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], header_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_query_parameter_wins_over_an_access_cookie_of_another_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let (param_token, param_id) = token_user(&app).await;
    let (browser, cookie_id) = cookie_user(&app).await;
    assert_ne!(param_id, cookie_id);

    // Act
    let response = browser
        .post_with(ME, json!({}), &[], &[("access_token", &param_token)])
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], param_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_bearer_header_does_not_fall_back_to_a_valid_access_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let (browser, _) = cookie_user(&app).await;
    browser.me().await.assert_ok();

    // Act
    let response = browser
        .post_with(ME, json!({}), &[("authorization", "Bearer garbage")], &[])
        .await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_bearer_header_does_not_fall_back_to_a_valid_query_parameter() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, _) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[("authorization", "Bearer garbage")],
            &[("access_token", &token)],
        )
        .await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorization_header_of_another_scheme_does_not_fall_back_to_a_valid_access_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let (browser, _) = cookie_user(&app).await;
    browser.me().await.assert_ok();

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[("authorization", "Basic dXNlcjpwYXNzd29yZA==")],
            &[],
        )
        .await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}

// ----- identityId -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_header_equal_to_the_token_user_is_accepted() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, id) = token_user(&app).await;
    let browser = Browser::new(&app);
    let id_text = id.as_str().expect("a string id").to_owned();

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[("authorization", &bearer(&token)), ("identityId", &id_text)],
            &[],
        )
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_header_naming_another_user_is_forbidden() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, _) = token_user(&app).await;
    let (_, other_id) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[
                ("authorization", &bearer(&token)),
                ("identityId", other_id.as_str().expect("a string id")),
            ],
            &[],
        )
        .await;

    // Assert
    response.assert_error("FORBIDDEN", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_header_that_is_not_a_uuid_is_forbidden() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, _) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[
                ("authorization", &bearer(&token)),
                ("identityId", "not-a-uuid"),
            ],
            &[],
        )
        .await;

    // Assert
    response.assert_error("FORBIDDEN", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_query_parameter_equal_to_the_token_user_is_accepted() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, id) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[("authorization", &bearer(&token))],
            &[("identityId", id.as_str().expect("a string id"))],
        )
        .await;

    // Assert
    assert_eq!(response.assert_ok()["me"]["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_query_parameter_naming_another_user_is_forbidden() {
    // Arrange
    let app = TestApp::spawn().await;
    let (token, _) = token_user(&app).await;
    let (_, other_id) = token_user(&app).await;
    let browser = Browser::new(&app);

    // Act
    let response = browser
        .post_with(
            ME,
            json!({}),
            &[],
            &[
                ("access_token", &token),
                ("identityId", other_id.as_str().expect("a string id")),
            ],
        )
        .await;

    // Assert
    response.assert_error("FORBIDDEN", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_is_checked_against_the_user_of_the_access_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let (browser, id) = cookie_user(&app).await;
    let (_, other_id) = token_user(&app).await;

    // Act
    let own = browser
        .post_with(
            ME,
            json!({}),
            &[("identityId", id.as_str().expect("a string id"))],
            &[],
        )
        .await;
    let other = browser
        .post_with(
            ME,
            json!({}),
            &[("identityId", other_id.as_str().expect("a string id"))],
            &[],
        )
        .await;

    // Assert
    assert_eq!(own.assert_ok()["me"]["id"], id);
    other.assert_error("FORBIDDEN", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_id_without_any_token_is_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, id) = token_user(&app).await;
    let browser = Browser::new(&app);
    let id_text = id.as_str().expect("a string id").to_owned();

    // Act
    let by_header = browser
        .post_with(ME, json!({}), &[("identityId", &id_text)], &[])
        .await;
    let by_param = browser
        .post_with(ME, json!({}), &[], &[("identityId", &id_text)])
        .await;

    // Assert
    by_header.assert_error("UNAUTHENTICATED", 401);
    by_param.assert_error("UNAUTHENTICATED", 401);
}
