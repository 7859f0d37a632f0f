//! GraphQL-over-HTTP details: `GET /graphql` with `operationName`, and literal arguments
//! of the wrong type as validation errors.

use serde_json::json;

use crate::helpers::TestApp;

const TWO_QUERIES: &str = "query First { first: __typename } query Second { second: __typename }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_runs_the_operation_named_by_operation_name() {
    let app = TestApp::spawn().await;

    let response = app
        .get(
            "/graphql",
            &[("query", TWO_QUERIES), ("operationName", "Second")],
        )
        .await;

    let data = response.assert_ok();
    assert_eq!(data["second"], json!("Query"));
    assert!(data.get("first").is_none(), "{data:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_passes_variables_as_json_text() {
    let app = TestApp::spawn().await;
    let query = "query Q($u: String!) { user(username: $u) { id } }";

    let given = app
        .get(
            "/graphql",
            &[("query", query), ("variables", r#"{"u": "ada"}"#)],
        )
        .await;
    let wrong = app
        .get(
            "/graphql",
            &[("query", query), ("variables", r#"{"u": 5}"#)],
        )
        .await;

    // Read, coerced, and run: it fails only for want of a token.
    given.assert_error("UNAUTHENTICATED", 401);
    wrong.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_selected_by_operation_name_over_get_is_still_405() {
    let app = TestApp::spawn().await;
    let document = "query Read { __typename } mutation Write { logout }";

    let write = app
        .get(
            "/graphql",
            &[("query", document), ("operationName", "Write")],
        )
        .await;
    let read = app
        .get(
            "/graphql",
            &[("query", document), ("operationName", "Read")],
        )
        .await;

    assert_eq!(write.status.as_u16(), 405, "{}", write.text);
    assert_eq!(read.assert_ok()["__typename"], json!("Query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_literal_for_a_non_null_argument_is_graphql_validation_failed() {
    let app = TestApp::spawn().await;

    let response = app.gql("{ user(username: null) { id } }", json!({})).await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_literal_of_the_wrong_type_is_graphql_validation_failed() {
    let app = TestApp::spawn().await;

    let in_a_field = app.gql("{ user(username: 42) { id } }", json!({})).await;
    let in_an_input = app
        .gql(
            r#"mutation { login(input: { username: "a", password: 7 }) { expires } }"#,
            json!({}),
        )
        .await;

    in_a_field.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    in_an_input.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_of_the_wrong_type_inside_an_input_stays_bad_user_input() {
    let app = TestApp::spawn().await;

    let response = app
        .gql(
            r#"query($p: String!) { user(username: $p) { id } }"#,
            json!({ "p": 7 }),
        )
        .await;

    response.assert_error("BAD_USER_INPUT", 400);
}
