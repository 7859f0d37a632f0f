//! The introspection queries standard clients send, as they send them, work under the
//! default limits; a type-reference chain deeper than any schema needs does not.
//!
//! The documents in `introspection/` are the libraries' own output:
//! graphql-js 16.15 `getIntrospectionQuery()` with every option on, GraphiQL 3.9's
//! (taken from the vendored bundle, with the options the page uses), and graphql-core
//! 3.2 `get_introspection_query(descriptions=True)`.

use serde_json::{Value, json};

use crate::helpers::TestApp;

const STANDARD: &[(&str, &str)] = &[
    (
        "graphql-js 16, every option",
        include_str!("introspection/graphql-js-16-all-options.graphql"),
    ),
    (
        "GraphiQL 3.9",
        include_str!("introspection/graphiql-3.9.graphql"),
    ),
    (
        "graphql-core 3.2, descriptions",
        include_str!("introspection/graphql-core-3.2-descriptions.graphql"),
    ),
];

fn mutation_fields(data: &Value) -> Vec<String> {
    let mutation = data["__schema"]["mutationType"]["name"].as_str().unwrap();
    let types = data["__schema"]["types"].as_array().unwrap();
    let mutation = types.iter().find(|t| t["name"] == mutation).unwrap();
    mutation["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_introspection_queries_work_under_the_default_limits() {
    let app = TestApp::spawn().await;

    for (client, query) in STANDARD {
        let response = app.gql(query, json!({})).await;

        let data = response.assert_ok();
        assert!(
            mutation_fields(data).iter().any(|f| f == "login"),
            "{client}: {:#}",
            response.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_reference_chain_deeper_than_the_standard_queries_is_refused() {
    let app = TestApp::spawn().await;
    // graphql-js's own query, with one more `ofType` level than it asks for.
    let (_, query) = STANDARD[0];
    let innermost = query.rfind("ofType {").expect("a type reference");
    let at = innermost + "ofType {".len();
    let deeper = format!("{} ofType {{ name }}{}", &query[..at], &query[at..]);

    let response = app.gql(&deeper, json!({})).await;

    response.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
    assert!(
        response.error_message().contains("nested too deep"),
        "{}",
        response.text
    );
}
