//! `instance_name`: which instance behind a balancer answered.

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_instance_names_itself_on_every_answer() {
    let app = TestApp::spawn_with(|s| s.instance_name = Some("node-2".into())).await;

    let graphql = app
        .client
        .post(app.url("/graphql"))
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();

    for response in [graphql, ready] {
        assert_eq!(
            response
                .headers()
                .get("x-latchkey-instance")
                .and_then(|v| v.to_str().ok()),
            Some("node-2")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unnamed_instance_sends_no_instance_header() {
    let app = TestApp::spawn().await;

    let response = app.client.get(app.url("/health")).send().await.unwrap();

    assert!(response.headers().get("x-latchkey-instance").is_none());
}
