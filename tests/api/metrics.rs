//! `/metrics`: Prometheus text on the main port by default, on `metrics_bind`'s port
//! when set, nowhere when `metrics = false`; the counters move with what happens.
//!
//! The recorder is global to the process and the tests run in parallel, so a test
//! asserts that its own actions moved each counter by at least their number.

use serde_json::json;

use crate::helpers::{TestApp, TestUser};

/// The value of one series (`name{labels}`) in a scrape; 0 when absent.
fn value(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_refreshes_lockouts_and_requests_move_their_counters() {
    // Arrange: an account locks after one failure; the clock stands still.
    let app = TestApp::spawn_with(|s| s.login_free_failures = 1).await;
    app.clock.stop();
    let user = TestUser::generate();
    app.register(&user).await;
    let before = scrape(&app).await;

    // Act: a login, a refresh, the same refresh again (grace), a failed login, a login
    // while locked, an unknown refresh token, and a query.
    let payload = app.login_username(&user).await;
    let refresh_token = payload["refreshToken"].as_str().unwrap();
    app.refresh(refresh_token).await.assert_ok();
    app.refresh(refresh_token).await.assert_ok();
    app.refresh("not-a-refresh-token")
        .await
        .assert_error("UNAUTHENTICATED", 401);
    let wrong = json!({ "username": user.username, "password": "wrong-password" });
    app.login(wrong.clone())
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.login(wrong).await.assert_error("RATE_LIMITED", 429);
    app.me(payload["accessToken"].as_str()).await.assert_ok();
    let after = scrape(&app).await;

    // Assert
    for (series, at_least) in [
        ("latchkey_logins_total{outcome=\"success\"}", 1.0),
        ("latchkey_logins_total{outcome=\"failure\"}", 1.0),
        ("latchkey_logins_total{outcome=\"locked\"}", 1.0),
        ("latchkey_refreshes_total{outcome=\"rotated\"}", 1.0),
        ("latchkey_refreshes_total{outcome=\"grace\"}", 1.0),
        ("latchkey_refreshes_total{outcome=\"invalid\"}", 1.0),
        ("latchkey_lockouts_total{by=\"account\"}", 1.0),
        ("latchkey_graphql_requests_total{kind=\"mutation\"}", 6.0),
        ("latchkey_graphql_requests_total{kind=\"query\"}", 1.0),
        (
            "latchkey_graphql_request_duration_seconds_count{kind=\"query\"}",
            1.0,
        ),
        ("latchkey_password_hash_wait_seconds_count", 2.0),
    ] {
        let moved = value(&after, series) - value(&before, series);
        assert!(
            moved >= at_least,
            "{series} moved by {moved}, not {at_least}:\n{after}"
        );
    }
    for present in [
        "latchkey_graphql_request_duration_seconds_bucket{kind=\"mutation\",le=\"0.005\"}",
        "latchkey_db_pool_connections{state=\"in_use\"}",
        "latchkey_db_pool_connections{state=\"idle\"}",
        "latchkey_db_pool_max_connections",
        "latchkey_db_pool_acquire_seconds",
        "latchkey_outbox_depth{outbox=\"mail\",state=\"pending\"}",
        "latchkey_password_hash_queue_depth",
        "# HELP latchkey_logins_total",
        "# TYPE latchkey_graphql_request_duration_seconds histogram",
    ] {
        assert!(after.contains(present), "no {present} in:\n{after}");
    }
    assert!(value(&after, "latchkey_db_pool_max_connections") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_counts_under_the_kind_of_operation_it_selects() {
    // Arrange
    let app = TestApp::spawn().await;
    let two = "query A { __typename } mutation B { logout }";
    let with_name = |name: &str| json!({ "query": two, "operationName": name }).to_string();
    let before = scrape(&app).await;

    // Act: anonymous queries (they run on the low-priority thread), each operation of a
    // two-operation document by name, the same document without a name, and a document
    // that does not parse.
    for _ in 0..20 {
        app.gql("{ __typename }", json!({})).await.assert_ok();
    }
    let json = Some("application/json");
    app.post_raw(with_name("A"), json).await.assert_ok();
    app.post_raw(with_name("B"), json).await;
    app.post_raw(json!({ "query": two }).to_string(), json)
        .await;
    app.gql("{ me ", json!({})).await;
    let after = scrape(&app).await;

    // Assert
    for (kind, at_least) in [("query", 21.0), ("mutation", 1.0), ("invalid", 2.0)] {
        for series in [
            format!("latchkey_graphql_requests_total{{kind=\"{kind}\"}}"),
            format!("latchkey_graphql_request_duration_seconds_count{{kind=\"{kind}\"}}"),
        ] {
            let moved = value(&after, &series) - value(&before, &series);
            assert!(
                moved >= at_least,
                "{series} moved by {moved}, not {at_least}:\n{after}"
            );
        }
    }
    // Every kind is a series from the start, whether or not a request of it came.
    assert!(
        before.contains("latchkey_graphql_requests_total{kind=\"subscription\"} "),
        "{before}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_is_counted() {
    let app = TestApp::spawn().await;
    let (_, payload) = app.signed_in_user().await;
    let first = payload["refreshToken"].as_str().unwrap();
    app.refresh(first).await.assert_ok();
    // Past the grace window: presenting the first token again is reuse.
    app.clock.advance(std::time::Duration::from_secs(60));
    let before = scrape(&app).await;

    app.refresh(first)
        .await
        .assert_error("REFRESH_TOKEN_REUSED", 401);

    let after = scrape(&app).await;
    let series = "latchkey_refreshes_total{outcome=\"reuse_detected\"}";
    assert!(
        value(&after, series) - value(&before, series) >= 1.0,
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_bind_serves_metrics_on_its_own_port_and_not_on_the_main_one() {
    let app = TestApp::spawn_with(|s| s.metrics_bind = Some("127.0.0.1:0".into())).await;
    let port = app.metrics_port.expect("a metrics listener");
    assert_ne!(port, app.port);

    let own = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.headers().contains_key("x-request-id"));
    assert!(
        own.text()
            .await
            .unwrap()
            .contains("latchkey_db_pool_max_connections")
    );
    let main = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);
    // The metrics listener serves nothing else.
    let other = app
        .client
        .get(format!(
            "http://127.0.0.1:{port}/graphql?query=%7B__typename%7D"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_metrics_off_there_is_no_metrics_endpoint() {
    let app = TestApp::spawn_with(|s| {
        s.metrics = false;
        s.metrics_bind = Some("127.0.0.1:0".into());
    })
    .await;
    assert_eq!(app.metrics_port, None);
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
