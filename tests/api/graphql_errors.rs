use crate::helpers::TestApp;
use serde_json::json;

const LOGIN_WITH_VARIABLE: &str = r#"mutation Login($u: String!) {
  login(input: { username: $u, password: "Some-password-1" }) { accessToken }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_field_is_graphql_validation_failed() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.gql("{ noSuchField }", json!({})).await;

    // Assert
    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_required_argument_is_graphql_validation_failed() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .gql("mutation { login { accessToken } }", json!({}))
        .await;

    // Assert
    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unterminated_query_is_graphql_parse_failed() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.gql("{ me", json!({})).await;

    // Assert
    response.assert_error("GRAPHQL_PARSE_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parse_error_is_http_400_when_the_client_prefers_graphql_response_json() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ me" }))
        .send()
        .await
        .expect("POST /graphql");
    let response = crate::helpers::GqlResponse::from_response(response).await;

    // Assert
    assert_eq!(response.status.as_u16(), 400, "{response:#?}");
    assert_eq!(
        response.body["errors"][0]["extensions"]["code"],
        json!("GRAPHQL_PARSE_FAILED"),
        "{response:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_of_the_wrong_type_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.gql(LOGIN_WITH_VARIABLE, json!({ "u": 42 })).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_for_a_non_null_variable_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.gql(LOGIN_WITH_VARIABLE, json!({ "u": null })).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_non_null_variable_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let response = app.gql(LOGIN_WITH_VARIABLE, json!({})).await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
}
