//! The `sessionEvents` subscription over a real WebSocket (`graphql-transport-ws`): what a
//! subscriber is told, when its socket closes and with which code, who may subscribe, and
//! how the socket treats a client that breaks the protocol.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::{TestApp, TestUser, jwt_part, str_field};
use crate::ws_client::{Received, SESSION_EVENTS, WsClient};

const REVOKE_SESSION: &str = "mutation Revoke($id: ID!) { revokeSession(id: $id) }";
const ADD_AUTH_HEADER: &str =
    "mutation Add($name: String!) { addAuthHeader(name: $name) { token } }";
const MY_NEWEST_EVENT: &str = "{ myAuthEvents(first: 1) { edges { node { id } } } }";
const CHANGE_PASSWORD: &str =
    "mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }";

/// A login's access token and session id.
struct Login {
    token: String,
    session: String,
}

async fn log_in(app: &TestApp, user: &TestUser) -> Login {
    let payload = app.login_username(user).await;
    let token = str_field(&payload, "accessToken").to_owned();
    let session = jwt_part(&token, 1)["sid"].as_str().unwrap().to_owned();
    Login { token, session }
}

/// A registered user with two sessions (two logins, as two tabs would have).
async fn user_with_two_sessions(app: &TestApp) -> (TestUser, Login, Login) {
    let user = TestUser::generate();
    app.register(&user).await;
    let first = log_in(app, &user).await;
    let second = log_in(app, &user).await;
    (user, first, second)
}

async fn revoke(app: &TestApp, by: &Login, session: &str) {
    let answer = app
        .gql_with_token(&by.token, REVOKE_SESSION, json!({ "id": session }))
        .await;
    assert_eq!(answer.assert_ok()["revokeSession"], json!(true));
}

/// The id of the account's newest event (by `myAuthEvents`).
async fn newest_event_id(app: &TestApp, login: &Login) -> String {
    let answer = app
        .gql_with_token(&login.token, MY_NEWEST_EVENT, json!({}))
        .await;
    str_field(
        &answer.assert_ok()["myAuthEvents"]["edges"][0]["node"],
        "id",
    )
    .to_owned()
}

/// A socket subscribed to `sessionEvents` after the account's newest event, so that
/// nothing done after this returns is missed, however long the subscription takes to
/// start on the server.
async fn subscribed(app: &TestApp, login: &Login) -> WsClient {
    let after = newest_event_id(app, login).await;
    let mut client = WsClient::authenticated(app, &login.token).await;
    client.subscribe_after("1", &after).await;
    client
}

#[tokio::test]
async fn a_subscriber_is_told_when_another_of_its_sessions_is_revoked() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_user, tab_a, tab_b) = user_with_two_sessions(&app).await;
    let mut a = subscribed(&app, &tab_a).await;

    // Act: tab A ends tab B's session.
    revoke(&app, &tab_a, &tab_b.session).await;

    // Assert: A hears which session ended and why, and stays open (its own logout comes
    // through on the same socket afterwards).
    let event = a.next_event("1").await;
    assert_eq!(event["kind"], "SESSION_REVOKED");
    assert_eq!(event["sessionId"], json!(tab_b.session));
    assert_eq!(event["current"], json!(false));
    assert_eq!(event["reason"], "REVOKED");
    assert!(event["eventId"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(event["occurredAt"].as_str().is_some());
    app.gql_with_token(&tab_a.token, "mutation { logout }", json!({}))
        .await
        .assert_ok();
    let own = a.next_event("1").await;
    assert_eq!(
        (own["current"].clone(), own["reason"].clone()),
        (json!(true), json!("LOGOUT"))
    );
}

#[tokio::test]
async fn a_subscriber_whose_own_session_is_revoked_gets_the_event_then_close_4401() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_user, tab_a, tab_b) = user_with_two_sessions(&app).await;
    let mut a = subscribed(&app, &tab_a).await;

    // Act: tab B ends tab A's session.
    revoke(&app, &tab_b, &tab_a.session).await;

    // Assert
    let event = a.next_event("1").await;
    assert_eq!(event["kind"], "SESSION_REVOKED");
    assert_eq!(event["sessionId"], json!(tab_a.session));
    assert_eq!(event["current"], json!(true));
    assert_eq!(event["reason"], "REVOKED");
    assert_eq!(
        a.next().await.message_type(),
        Some("complete".to_owned()),
        "the subscription completes"
    );
    assert_eq!(
        a.expect_close().await,
        (4401, "session ended: REVOKED".to_owned())
    );
}

#[tokio::test]
async fn a_session_ended_before_its_subscription_started_is_told_from_the_log_then_closed() {
    // Arrange: connected, but the session ends before the client subscribes.
    let app = TestApp::spawn().await;
    let (_user, tab_a, tab_b) = user_with_two_sessions(&app).await;
    let after = newest_event_id(&app, &tab_a).await;
    let mut a = WsClient::authenticated(&app, &tab_a.token).await;
    revoke(&app, &tab_b, &tab_a.session).await;

    // Act
    a.subscribe_after("1", &after).await;

    // Assert: the end is told as it happened, then the socket closes.
    let event = a.next_event("1").await;
    assert_eq!(
        (event["current"].clone(), event["reason"].clone()),
        (json!(true), json!("REVOKED"))
    );
    a.next().await;
    assert_eq!(
        a.expect_close().await,
        (4401, "session ended: REVOKED".to_owned())
    );

    // A new socket with that session's token is refused at `connection_init`.
    let mut late = WsClient::connect(&app).await;
    late.init(json!({ "authorization": format!("Bearer {}", tab_a.token) }))
        .await;
    assert_eq!(late.expect_close().await.0, 4403);
}

#[tokio::test]
async fn a_password_change_elsewhere_is_told_and_ends_the_subscribers_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, tab_a, tab_b) = user_with_two_sessions(&app).await;
    let mut a = subscribed(&app, &tab_a).await;

    // Act: tab B changes the password, which ends every other session.
    let input = json!({ "username": user.username, "currentPassword": user.password, "newPassword": format!("{}-new", user.password) });
    app.gql_with_token(&tab_b.token, CHANGE_PASSWORD, json!({ "input": input }))
        .await
        .assert_ok();

    // Assert
    let changed = a.next_event("1").await;
    assert_eq!(changed["kind"], "PASSWORD_CHANGED");
    assert_eq!(changed["sessionId"], json!(tab_b.session));
    assert_eq!(changed["reason"], "PASSWORD_CHANGED");
    let ended = a.next_event("1").await;
    assert_eq!(ended["kind"], "SESSION_REVOKED");
    assert_eq!(ended["current"], json!(true));
    assert_eq!(ended["reason"], "PASSWORD_CHANGED");
    a.next().await;
    assert_eq!(
        a.expect_close().await,
        (4401, "session ended: PASSWORD_CHANGED".to_owned())
    );
}

#[tokio::test]
async fn a_reused_refresh_token_is_told_with_the_session_it_ended() {
    // Arrange: a third session whose refresh token is rotated, then replayed.
    let app = TestApp::spawn().await;
    let (user, tab_a, _tab_b) = user_with_two_sessions(&app).await;
    let mut a = subscribed(&app, &tab_a).await;
    let victim = app.login_username(&user).await;
    let stolen = str_field(&victim, "refreshToken").to_owned();
    let victim_session = jwt_part(str_field(&victim, "accessToken"), 1)["sid"].clone();
    app.refresh(&stolen).await.assert_ok();
    app.clock.advance(Duration::from_secs(60));

    // Act
    app.refresh(&stolen).await;

    // Assert
    let reused = a.next_event("1").await;
    assert_eq!(reused["kind"], "REFRESH_REUSED");
    assert_eq!(reused["sessionId"], victim_session);
    let ended = a.next_event("1").await;
    assert_eq!(ended["kind"], "SESSION_REVOKED");
    assert_eq!(ended["sessionId"], victim_session);
    assert_eq!(ended["reason"], "REFRESH_REUSED");
    assert_eq!(ended["current"], json!(false));
}

#[tokio::test]
async fn another_accounts_events_never_arrive() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_me, my_tab, my_other_tab) = user_with_two_sessions(&app).await;
    let (stranger, their_tab, their_other_tab) = user_with_two_sessions(&app).await;
    let mut mine = subscribed(&app, &my_tab).await;

    // Act: the other account has sessions revoked and its password changed...
    revoke(&app, &their_tab, &their_other_tab.session).await;
    let input = json!({ "username": stranger.username, "currentPassword": stranger.password, "newPassword": format!("{}-2", stranger.password) });
    app.gql_with_token(&their_tab.token, CHANGE_PASSWORD, json!({ "input": input }))
        .await
        .assert_ok();
    // ...then something happens to mine.
    revoke(&app, &my_tab, &my_other_tab.session).await;

    // Assert: the first thing the subscriber hears is its own account's event.
    let first = mine.next_event("1").await;
    assert_eq!(first["sessionId"], json!(my_other_tab.session));
}

#[tokio::test]
async fn a_subscriber_is_closed_when_its_session_expires() {
    // Arrange: sessions of 10 s; the clock is moved to 2 s before the end of one.
    let app = TestApp::spawn_with(|s| {
        s.access_token_ttl = Duration::from_secs(10);
        s.session_ttl = Duration::from_secs(10);
    })
    .await;
    let (_user, tab, _) = user_with_two_sessions(&app).await;
    app.clock.advance(Duration::from_secs(8));
    let mut client = subscribed(&app, &tab).await;

    // Assert: closed when the server's clock passes the end.
    client.next().await;
    assert_eq!(
        client.expect_close().await,
        (4401, "session ended: EXPIRED".to_owned())
    );
}

#[tokio::test]
async fn no_credential_or_a_bad_token_is_refused_with_4403() {
    let app = TestApp::spawn().await;
    for payload in [
        json!({}),
        json!({ "authorization": "Bearer not-a-token" }),
        json!({ "authorization": "Basic dXNlcjpwdw==" }),
        json!({ "authorization": 42 }),
    ] {
        let mut client = WsClient::connect(&app).await;
        client.init(payload.clone()).await;
        let (code, reason) = client.expect_close().await;
        assert_eq!(code, 4403, "{payload}: {reason}");
    }
}

#[tokio::test]
async fn a_token_in_the_upgrade_request_authenticates_too() {
    let app = TestApp::spawn().await;
    let (_user, tab, _) = user_with_two_sessions(&app).await;
    let bearer = format!("Bearer {}", tab.token);
    let mut client = WsClient::connect_with(&app, &[("authorization", &bearer)], "")
        .await
        .unwrap();
    client.init(json!({})).await;
    client.expect_ack().await;
}

#[tokio::test]
async fn a_personal_token_may_connect_but_not_subscribe() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_user, tab, _) = user_with_two_sessions(&app).await;
    let added = app
        .gql_with_token(&tab.token, ADD_AUTH_HEADER, json!({ "name": "script" }))
        .await;
    let personal = str_field(&added.assert_ok()["addAuthHeader"], "token").to_owned();
    let mut client = WsClient::authenticated(&app, &personal).await;

    // Act
    client.subscribe("1", SESSION_EVENTS).await;

    // Assert
    match client.next().await {
        Received::Message(m) => {
            assert_eq!(m["type"], "next", "{m:#}");
            assert_eq!(
                m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
                "{m:#}"
            );
        }
        other => panic!("expected an error result, got {other:?}"),
    }
}

/// The access cookie a SESSION-mode login sets, as a `Cookie` header value.
async fn session_cookie(app: &TestApp, user: &TestUser) -> String {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = client
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation L($input: LoginInput!) { login(input: $input) { tokenType } }",
            "variables": { "input": { "username": user.username, "password": user.password, "mode": "SESSION" } },
        }))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect();
    assert!(!cookies.is_empty(), "a SESSION login sets cookies");
    cookies.join("; ")
}

#[tokio::test]
async fn a_cookie_is_refused_from_a_foreign_origin_and_accepted_from_an_allowed_one() {
    // Arrange
    const FRONTEND: &str = "http://front.example.com";
    let app = TestApp::spawn_with(|s| s.cors_origins = vec![FRONTEND.to_owned()]).await;
    let user = TestUser::generate();
    app.register(&user).await;
    let cookie = session_cookie(&app, &user).await;
    let own = format!("http://127.0.0.1:{}", app.port);

    // Act + Assert: a page on another site that makes the browser open the socket, with
    // the user's cookie, is refused...
    let mut hijack = WsClient::connect_with(
        &app,
        &[("cookie", &cookie), ("origin", "https://evil.example.net")],
        "",
    )
    .await
    .unwrap();
    hijack.init(json!({})).await;
    let (code, reason) = hijack.expect_close().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("origin"), "{reason}");

    // ...while the allowed frontend, the server's own origin, and a client that sends
    // no Origin (not a browser) are served.
    for origin in [Some(FRONTEND), Some(own.as_str()), None] {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(origin.map(|o| ("origin", o)));
        let mut client = WsClient::connect_with(&app, &headers, "").await.unwrap();
        client.init(json!({})).await;
        client.expect_ack().await;
    }
}

#[tokio::test]
async fn the_api_key_gate_applies_to_the_upgrade() {
    let app = TestApp::spawn_with(|s| s.api_keys_required = true).await;
    match WsClient::connect_with(&app, &[], "").await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        Ok(_) => panic!("an upgrade without a key was accepted"),
        Err(e) => panic!("expected HTTP 403, got {e}"),
    }
}

#[tokio::test]
async fn an_upgrade_without_the_sub_protocol_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let app = TestApp::spawn().await;
    let request = format!("ws://127.0.0.1:{}/graphql", app.port)
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        Ok(_) => panic!("an upgrade without graphql-transport-ws was accepted"),
        Err(e) => panic!("expected HTTP 400, got {e}"),
    }
}

/// A client that breaks the protocol gets the protocol's close code, and the server goes
/// on serving others.
#[tokio::test]
async fn garbage_oversized_and_out_of_order_messages_close_cleanly() {
    let app = TestApp::spawn().await;
    let (_user, tab, _) = user_with_two_sessions(&app).await;
    let max = app_max_body_bytes();

    let cases: Vec<(&str, Vec<Message>, bool, u16)> = vec![
        ("not JSON", vec![Message::text("{nope")], false, 4400),
        (
            "an unknown type",
            vec![Message::text(r#"{"type":"shout"}"#)],
            false,
            4400,
        ),
        ("binary", vec![Message::binary(vec![1, 2, 3])], false, 4400),
        (
            "oversized",
            vec![Message::text(format!(
                r#"{{"type":"ping","payload":"{}"}}"#,
                "x".repeat(max)
            ))],
            false,
            1009,
        ),
        (
            "subscribe before init",
            vec![Message::text(subscribe("1"))],
            false,
            4401,
        ),
        (
            "a second init",
            vec![Message::text(r#"{"type":"connection_init"}"#)],
            true,
            4429,
        ),
        (
            "a reused id",
            vec![Message::text(subscribe("1")), Message::text(subscribe("1"))],
            true,
            4409,
        ),
    ];
    for (what, messages, after_ack, expected) in cases {
        let mut client = if after_ack {
            WsClient::authenticated(&app, &tab.token).await
        } else {
            WsClient::connect(&app).await
        };
        for message in messages {
            client.send(message).await;
        }
        let (code, reason) = loop {
            match client.next().await {
                Received::Closed(code, reason) => break (code, reason),
                Received::Message(_) => {}
            }
        };
        assert_eq!(code, expected, "{what}: {reason}");
    }

    // The server still serves.
    let mut client = subscribed(&app, &tab).await;
    client.send(Message::Ping(vec![7].into())).await;
    client.send_json(json!({ "type": "ping" })).await;
    assert_eq!(client.next().await.message_type(), Some("pong".to_owned()));
}

#[tokio::test]
async fn queries_and_too_many_subscriptions_are_refused_with_an_error_message() {
    let app = TestApp::spawn().await;
    let (_user, tab, _) = user_with_two_sessions(&app).await;
    let mut client = WsClient::authenticated(&app, &tab.token).await;

    client
        .send_json(
            json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ me { id } }" } }),
        )
        .await;
    let refused = next_message(&mut client).await;
    assert_eq!(
        (refused["type"].clone(), refused["id"].clone()),
        (json!("error"), json!("q"))
    );

    for id in 0..8 {
        client.subscribe(&id.to_string(), SESSION_EVENTS).await;
    }
    client.subscribe("one too many", SESSION_EVENTS).await;
    let refused = next_message(&mut client).await;
    assert_eq!(
        (refused["type"].clone(), refused["id"].clone()),
        (json!("error"), json!("one too many")),
        "{refused:#}"
    );
    // Completing one makes room again.
    client
        .send_json(json!({ "id": "0", "type": "complete" }))
        .await;
    client.subscribe("room again", SESSION_EVENTS).await;
    client.send_json(json!({ "type": "ping" })).await;
    loop {
        let message = next_message(&mut client).await;
        assert_ne!(message["type"], "error", "{message:#}");
        if message["type"] == "pong" {
            break;
        }
    }
}

fn subscribe(id: &str) -> String {
    json!({ "id": id, "type": "subscribe", "payload": { "query": SESSION_EVENTS } }).to_string()
}

fn app_max_body_bytes() -> usize {
    latchkey_api::config::Settings::for_tests("sqlite::memory:").max_body_bytes
}

async fn next_message(client: &mut WsClient) -> Value {
    match client.next().await {
        Received::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

impl Received {
    fn message_type(&self) -> Option<String> {
        match self {
            Received::Message(m) => m["type"].as_str().map(str::to_owned),
            Received::Closed(..) => None,
        }
    }
}

/// Instances share events through PostgreSQL's LISTEN/NOTIFY (another branch): a revoke
/// made on instance A reaches a subscriber on instance B within a second.
#[tokio::test]
async fn a_revoke_on_one_instance_reaches_a_subscriber_on_another_within_a_second() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        return; // PostgreSQL only: SQLite runs one process.
    }
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let (_user, tab_1, tab_2) = user_with_two_sessions(&a).await;
    let mut on_b = subscribed(&b, &tab_1).await;

    let started = std::time::Instant::now();
    revoke(&a, &tab_1, &tab_2.session).await;
    let event = on_b.next_event("1").await;
    let took = started.elapsed();

    assert_eq!(event["sessionId"], json!(tab_2.session));
    println!("a revoke on instance A reached instance B in {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}
