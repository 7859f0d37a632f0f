//! Operator settings that change what the API answers.

use latchkey_api::config::BootstrapAdmin;
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_signup_off_register_is_forbidden() {
    let app = TestApp::spawn_with(|s| s.signup = false).await;
    let response = app.register_response(&TestUser::generate()).await;
    response.assert_error("FORBIDDEN", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_admin_is_created_at_start_and_only_once() {
    let admin = TestUser::generate();
    let (username, password) = (admin.username.clone(), admin.password.clone());
    let mut app = TestApp::spawn_with(move |s| {
        s.admin = Some(BootstrapAdmin {
            username: username.clone(),
            password: password.clone().into(),
        });
    })
    .await;
    let payload = app.login_username(&admin).await;
    assert_eq!(payload["user"]["role"], json!("ADMIN"));

    // A second start finds the admin and leaves it (and its password) alone.
    app.restart().await;
    let payload = app.login_username(&admin).await;
    assert_eq!(payload["user"]["role"], json!("ADMIN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_to_browsers_and_404_when_turned_off() {
    let app = TestApp::spawn().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let app = TestApp::spawn_with(|s| s.graphiql = false).await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_introspection_off_schema_queries_fail_validation() {
    let app = TestApp::spawn_with(|s| s.introspection = false).await;
    let response = app
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    // Ordinary queries still work.
    let response = app.gql("{ __typename }", json!({})).await;
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_batching_on_a_batch_answers_each_operation_in_order() {
    let app = TestApp::spawn_with(|s| s.batching = true).await;
    let body = json!([{ "query": "{ __typename }" }, { "query": "{ me { id } }" }]);
    let response = app
        .post_raw(body.to_string(), Some("application/json"))
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body[0]["data"]["__typename"], json!("Query"));
    assert_eq!(
        response.body[1]["errors"][0]["extensions"]["code"],
        json!("UNAUTHENTICATED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_deeper_or_wider_than_the_limits_fail_validation() {
    let app = TestApp::spawn_with(|s| {
        s.max_query_depth = 2;
        s.max_query_complexity = 5;
    })
    .await;
    let deep = app
        .gql(
            "{ me { id } __schema { types { fields { name } } } }",
            json!({}),
        )
        .await;
    deep.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    let wide = app
        .gql(
            "{ me { id username email firstname lastname created role } }",
            json!({}),
        )
        .await;
    wide.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}
