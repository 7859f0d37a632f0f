use crate::helpers::TestApp;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_ok() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.get("/health", &[]).await;

    // Assert
    assert_eq!(response.status.as_u16(), 200, "{response:#?}");
    assert_eq!(response.body, json!({ "status": "ok" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_answers_200_when_the_database_answers() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.get("/ready", &[]).await;

    // Assert
    assert_eq!(response.status.as_u16(), 200, "{response:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_get_is_answered() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.get("/graphql", &[("query", "{__typename}")]).await;

    // Assert
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_over_get_is_method_not_allowed() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .get("/graphql", &[("query", "mutation { logout }")])
        .await;

    // Assert
    assert_eq!(response.status.as_u16(), 405, "{response:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_with_a_charset_is_accepted() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .post_raw(
            r#"{"query":"{ __typename }"}"#,
            Some("application/json; charset=utf-8"),
        )
        .await;

    // Assert
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.post_raw("", Some("application/json")).await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_json_body_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.post_raw("{", Some("application/json")).await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.post_raw("not json", Some("application/json")).await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_plain_body_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .post_raw(r#"{"query":"{ __typename }"}"#, Some("text/plain"))
        .await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_encoded_body_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .post_raw(
            "query=%7B__typename%7D",
            Some("application/x-www-form-urlencoded"),
        )
        .await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_without_a_content_type_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.post_raw(r#"{"query":"{ __typename }"}"#, None).await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_payload_too_large() {
    // Arrange
    let app = TestApp::spawn().await;
    let body = json!({
        "query": "{ __typename }",
        "variables": { "padding": "x".repeat(70_000) },
    })
    .to_string();
    assert!(body.len() > 65_536);

    // Act
    let response = app.post_raw(body, Some("application/json")).await;

    // Assert
    assert_eq!(response.status.as_u16(), 413, "{response:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_just_under_the_limit_is_answered() {
    // Arrange
    let app = TestApp::spawn().await;
    let envelope = json!({ "query": "{ __typename }", "variables": { "padding": "" } })
        .to_string()
        .len();
    let body = json!({
        "query": "{ __typename }",
        "variables": { "padding": "x".repeat(60_000 - envelope) },
    })
    .to_string();

    // Act
    let response = app.post_raw(body, Some("application/json")).await;

    // Assert
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_bad_request() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .post_raw(
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#,
            Some("application/json"),
        )
        .await;

    // Assert
    response.assert_rejected(400, "BAD_REQUEST");
}
