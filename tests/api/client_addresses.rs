//! The client's address behind proxies: `X-Forwarded-For` / `Forwarded` are believed only
//! from a `trusted_proxies` peer, read right to left; everything keyed on the address
//! (per-address budgets, sessions' `ip`) uses the one it settles. The test client connects
//! from 127.0.0.1, so `trusted_proxies = 127.0.0.0/8` makes it a trusted proxy.

use latchkey_api::config::ForwardedHeader;
use serde_json::{Value, json};

use crate::helpers::{GqlResponse, TestApp, TestUser, login_document};

const SESSIONS: &str = "query { sessions { ip current } }";

fn behind_a_proxy(s: &mut latchkey_api::config::Settings) {
    s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    s.ip_failures_per_minute = 3;
}

/// A login sent with one extra header (the proxy's, or a spoofer's).
async fn login_with(app: &TestApp, header: (&str, &str), input: Value) -> GqlResponse {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header(header.0, header.1)
        .json(&json!({ "query": login_document(), "variables": { "input": input } }))
        .send()
        .await
        .unwrap();
    GqlResponse::from_response(response).await
}

fn wrong_password() -> Value {
    let stranger = TestUser::generate();
    json!({ "username": stranger.username, "password": "not-the-password" })
}

fn right_password(user: &TestUser) -> Value {
    json!({ "username": user.username, "password": user.password })
}

/// The `ip` the session of this access token recorded.
async fn session_ip(app: &TestApp, token: &str) -> Value {
    let sessions = app.gql_with_token(token, SESSIONS, json!({})).await;
    let sessions = sessions.assert_ok()["sessions"].as_array().unwrap().clone();
    let current = sessions.iter().find(|s| s["current"] == true).unwrap();
    current["ip"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_a_guesser_is_throttled_by_its_own_address_not_everyones() {
    // Arrange: three failures a minute per address; the clock stands still.
    let app = TestApp::spawn_with(behind_a_proxy).await;
    app.clock.stop();
    let user = TestUser::generate();
    app.register(&user).await;
    let guesser = ("x-forwarded-for", "198.51.100.7");

    // Act: the guesser uses up its address's failures.
    for _ in 0..3 {
        login_with(&app, guesser, wrong_password())
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: the guesser waits, even with a right password...
    login_with(&app, guesser, right_password(&user))
        .await
        .assert_error("RATE_LIMITED", 429);
    // ...while another client behind the same proxy, and the proxy itself, get in.
    let other = login_with(
        &app,
        ("x-forwarded-for", "198.51.100.8"),
        right_password(&user),
    )
    .await;
    let token = other.assert_ok()["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(session_ip(&app, &token).await, "198.51.100.8");
    app.login(right_password(&user)).await.assert_ok();
    // A client that claims the guesser's address is the guesser: a left-hand claim
    // does not help, the proxy's entry decides.
    login_with(
        &app,
        ("x-forwarded-for", "198.51.100.9, 198.51.100.7"),
        right_password(&user),
    )
    .await
    .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_an_untrusted_peer_forwarded_headers_are_ignored() {
    // Arrange: no trusted proxies (the default), three failures a minute per address.
    let app = TestApp::spawn_with(|s| s.ip_failures_per_minute = 3).await;
    app.clock.stop();
    let user = TestUser::generate();
    app.register(&user).await;

    // Act: a guesser claims a new address on every attempt, in both headers.
    for i in 0..3 {
        let claim = format!("203.0.113.{i}");
        let header = if i % 2 == 0 {
            "x-forwarded-for"
        } else {
            "forwarded"
        };
        let value = if i % 2 == 0 {
            claim
        } else {
            format!("for={claim}")
        };
        login_with(&app, (header, &value), wrong_password())
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: all three counted against the real peer, which now waits.
    login_with(
        &app,
        ("x-forwarded-for", "203.0.113.99"),
        right_password(&user),
    )
    .await
    .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_records_the_address_the_trusted_proxy_forwarded() {
    let app = TestApp::spawn_with(behind_a_proxy).await;
    let user = TestUser::generate();
    app.register(&user).await;

    for (header, value, want) in [
        ("x-forwarded-for", "1.1.1.1, 198.51.100.20", "198.51.100.20"),
        (
            "x-forwarded-for",
            "198.51.100.21, 127.0.0.5",
            "198.51.100.21",
        ),
        // Malformed: the walk stops at the peer.
        ("x-forwarded-for", "not an address", "127.0.0.1"),
        // `Forwarded` is not the configured header: ignored.
        ("forwarded", "for=198.51.100.22", "127.0.0.1"),
    ] {
        let payload = login_with(&app, (header, value), right_password(&user)).await;
        let token = payload.assert_ok()["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(session_ip(&app, &token).await, want, "{header}: {value}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_forwarded_configured_rfc_7239_is_read_and_x_forwarded_for_ignored() {
    let app = TestApp::spawn_with(|s| {
        behind_a_proxy(s);
        s.forwarded_header = ForwardedHeader::Forwarded;
    })
    .await;
    let user = TestUser::generate();
    app.register(&user).await;

    for (header, value, want) in [
        (
            "forwarded",
            "for=\"[2001:db8::7]:4711\";proto=https",
            "2001:db8::7",
        ),
        (
            "forwarded",
            "for=1.1.1.1, for=198.51.100.30:80",
            "198.51.100.30",
        ),
        (
            "forwarded",
            "for=1.1.1.1, for=\"198.51.100.31:80\"",
            "198.51.100.31",
        ),
        ("forwarded", "for=unknown", "127.0.0.1"),
        ("x-forwarded-for", "198.51.100.32", "127.0.0.1"),
    ] {
        let payload = login_with(&app, (header, value), right_password(&user)).await;
        let token = payload.assert_ok()["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(session_ip(&app, &token).await, want, "{header}: {value}");
    }
}
