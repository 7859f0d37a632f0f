//! The bounds on a document's shape and its variables, seen from outside: each refused
//! with the contract's code for its kind (parse, validation, variable values).

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_cycle_is_graphql_validation_failed() {
    let app = TestApp::spawn().await;

    let response = app
        .gql(
            "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A ...A }",
            json!({}),
        )
        .await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        response.error_message().contains("spreads itself"),
        "{}",
        response.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_bomb_is_refused_by_its_counted_size() {
    let app = TestApp::spawn().await;
    let mut query = String::from("{ ...F30 } fragment F0 on Query { __typename }");
    for level in 1..=30 {
        let below = level - 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{below} ...F{below} }}"
        ));
    }

    let response = app.gql(&query, json!({})).await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        response.error_message().contains("too complex"),
        "{}",
        response.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typename_fields_count_toward_complexity() {
    let app = TestApp::spawn().await;
    let fields = |n: usize| format!("{{ {} }}", "__typename ".repeat(n));

    app.gql(&fields(250), json!({})).await.assert_ok();
    app.gql(&fields(251), json!({}))
        .await
        .assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_operations_fragments_or_directives_fail_validation() {
    let app = TestApp::spawn_with(|s| {
        s.max_query_operations = 2;
        s.max_query_fragments = 1;
        s.max_field_directives = 1;
    })
    .await;
    let cases = [
        "query A { __typename } query B { __typename } query C { __typename }",
        "{ ...A ...B } fragment A on Query { __typename } fragment B on Query { __typename }",
        "{ __typename @skip(if: false) @include(if: true) }",
    ];
    for query in cases {
        app.gql(query, json!({}))
            .await
            .assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    }
    app.gql("{ __typename @skip(if: false) }", json!({}))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_tokens_or_too_deep_brackets_are_graphql_parse_failed() {
    let app = TestApp::spawn_with(|s| s.max_query_tokens = 50).await;

    let long = format!("{{ {} }}", "__typename ".repeat(60));
    let deep = format!(
        "{{ user(username: {}\"a\"{}) {{ id }} }}",
        "[".repeat(2000),
        "]".repeat(2000)
    );

    app.gql(&long, json!({}))
        .await
        .assert_error("GRAPHQL_PARSE_FAILED", 400);
    let app = TestApp::spawn().await;
    app.gql(&deep, json!({}))
        .await
        .assert_error("GRAPHQL_PARSE_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variable_values_out_of_bounds_are_bad_user_input() {
    let app = TestApp::spawn_with(|s| {
        s.max_variables = 2;
        s.max_variable_depth = 3;
        s.max_variable_string_bytes = 100;
        s.max_variable_list_length = 5;
    })
    .await;
    let query = "query($v: String) { user(username: $v) { id } }";
    let deep = (0..5).fold(json!("x"), |inner, _| json!([inner]));
    let cases = [
        json!({ "v": "x".repeat(101) }),
        json!({ "v": deep }),
        json!({ "v": [1, 2, 3, 4, 5, 6] }),
        json!({ "v": "a", "w": "b", "x": "c" }),
    ];
    for variables in cases {
        app.gql(query, variables)
            .await
            .assert_error("BAD_USER_INPUT", 400);
    }
    // Within the bounds the request runs (and fails only for want of a token).
    app.gql(query, json!({ "v": "x".repeat(100) }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}
