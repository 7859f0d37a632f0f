//! Limits on what one request may ask for: one credential-checking field, and bounded
//! depth and complexity. All refused at validation, before anything runs.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, TestUser};

/// Enough wrong passwords to lock the account many times over, were they tried.
const ALIASES: usize = 1_000;

fn aliased_logins(count: usize) -> String {
    let fields: String = (0..count)
        .map(|i| format!(" a{i}: login(input: $input) {{ expires }}"))
        .collect();
    format!("mutation Guess($input: LoginInput!) {{{fields} }}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_aliased_logins_are_refused_before_any_password_is_hashed() {
    // Arrange: an account that locks after two failures.
    let app = TestApp::spawn_with(|s| s.login_free_failures = 2).await;
    let user = TestUser::generate();
    app.register(&user).await;
    let guess = json!({ "input": { "username": user.username, "password": "guess-0001" } });

    // Act
    let started = Instant::now();
    let response = app.gql(&aliased_logins(ALIASES), guess).await;
    let took = started.elapsed();

    // Assert: refused as a whole, and fast: a thousand hashes would take many seconds.
    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        response.error_message().contains("credential"),
        "{:#}",
        response.body
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // None of them counted as a failure: the account is not locked.
    app.login(json!({ "username": user.username, "password": user.password }))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_aliased_logins_are_refused_too() {
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;
    let input = json!({ "input": { "username": user.username, "password": user.password } });

    let response = app.gql(&aliased_logins(2), input.clone()).await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    // One is fine.
    app.gql(&aliased_logins(1), input).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_hidden_in_fragments_are_counted() {
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;
    let query = r"
        mutation Guess($input: LoginInput!) { ...One ... on Mutation { ...Two } }
        fragment One on Mutation { login(input: $input) { expires } }
        fragment Two on Mutation { again: login(input: $input) { expires } }";

    let response = app
        .gql(
            query,
            json!({ "input": { "username": user.username, "password": user.password } }),
        )
        .await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_and_a_register_in_one_request_are_refused_and_neither_runs() {
    // Arrange
    let app = TestApp::spawn().await;
    let existing = TestUser::generate();
    app.register(&existing).await;
    let newcomer = TestUser::generate();
    let query = r"
        mutation Both($login: LoginInput!, $register: RegisterInput!) {
          login(input: $login) { expires }
          register(input: $register) { id }
        }";

    // Act
    let response = app
        .gql(
            query,
            json!({
                "login": { "username": existing.username, "password": existing.password },
                "register": newcomer.register_input(),
            }),
        )
        .await;

    // Assert: refused, and the account was not created (it can be registered now).
    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(response.body["data"].is_null(), "{:#}", response.body);
    app.register(&newcomer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_deeper_than_the_default_limit_is_refused() {
    // Arrange: only introspection nests this deep; `ofType` chains add a level each.
    let app = TestApp::spawn().await;
    let nest = |levels: usize| {
        let open = "ofType { ".repeat(levels);
        let close = "} ".repeat(levels);
        format!("{{ __schema {{ types {{ fields {{ type {{ {open}name {close}}} }} }} }} }}")
    };

    // Act
    let deep = app.gql(&nest(12), json!({})).await;
    let shallow = app.gql(&nest(6), json!({})).await;

    // Assert: deeper than 12 levels fails validation; within the limit it is answered.
    deep.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        deep.error_message().contains("nested too deep"),
        "{:#}",
        deep.body
    );
    shallow.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_through_fragments_counts_too() {
    let app = TestApp::spawn().await;
    let open = "ofType { ".repeat(12);
    let close = "} ".repeat(12);
    let query = format!(
        "{{ __schema {{ ...Types }} }} fragment Types on __Schema {{ types {{ fields {{ type {{ {open}name {close}}} }} }} }}"
    );

    let response = app.gql(&query, json!({})).await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        response.error_message().contains("nested too deep"),
        "{:#}",
        response.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_wider_than_the_default_complexity_is_refused() {
    // Arrange: each `me { id }` costs 2, so 126 of them cost 252 > 250.
    let app = TestApp::spawn().await;
    let wide = |count: usize| {
        let fields: String = (0..count).map(|i| format!(" m{i}: me {{ id }}")).collect();
        format!("{{{fields} }}")
    };

    // Act
    let over = app.gql(&wide(126), json!({})).await;
    let under = app.gql(&wide(120), json!({})).await;

    // Assert: over the limit fails validation; under it the query runs (and fails only
    // for want of a token).
    over.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        over.error_message().contains("too complex"),
        "{:#}",
        over.body
    );
    under.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn width_through_fragments_counts_too() {
    let app = TestApp::spawn().await;
    let fields: String = (0..130).map(|i| format!(" m{i}: me {{ id }}")).collect();
    let query = format!("{{ ...Wide }} fragment Wide on Query {{{fields} }}");

    let response = app.gql(&query, json!({})).await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_introspection_off_it_cannot_hide_in_a_fragment() {
    let app = TestApp::spawn_with(|s| s.introspection = false).await;

    let response = app
        .gql(
            "{ ...Peek } fragment Peek on Query { __schema { queryType { name } } }",
            json!({}),
        )
        .await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliased_refreshes_of_one_token_are_refused_and_rotate_nothing() {
    // Arrange: twenty refreshes of one token in one document would race inside the grace
    // window and each mint a live successor.
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let token = crate::helpers::str_field(&login, "refreshToken").to_owned();
    let fields: String = (0..20)
        .map(|i| format!("r{i}: refresh(refreshToken: $t) {{ refreshToken }} "))
        .collect();
    let document = format!("mutation($t: String) {{ {fields}}}");

    // Act
    let response = app.gql(&document, json!({ "t": token })).await;

    // Assert: refused before anything ran; the token is still the session's current one.
    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        response.error_message().contains("refresh"),
        "{}",
        response.error_message()
    );
    app.refresh(&token).await.assert_ok();
}
