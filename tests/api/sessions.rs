//! `sessions` and `revokeSession`, and the end of a session's life:
//! revoking a session kills its access tokens at once, not at their expiry.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, jwt_part, str_field};

const SESSIONS: &str =
    "query { sessions { id created lastUsedAt expiresAt userAgent ip current } }";
const REVOKE: &str = "mutation Revoke($id: ID!) { revokeSession(id: $id) }";
/// The caller's sessions, as `sessions` lists them.
async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    app.gql_with_token(token, SESSIONS, json!({}))
        .await
        .assert_ok()["sessions"]
        .as_array()
        .expect("a list of sessions")
        .clone()
}

fn sid(payload: &Value) -> String {
    str_field(&jwt_part(str_field(payload, "accessToken"), 1), "sid").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_lists_each_login_and_marks_the_one_making_the_request() {
    // Arrange: one user, logged in from two clients.
    let app = TestApp::spawn().await;
    let (user, first) = app.signed_in_user().await;
    let second = app
        .client
        .post(app.url("/graphql"))
        .header("user-agent", "Latchkey-Test/2.0 (second device)")
        .json(&json!({
            "query": crate::helpers::login_document(),
            "variables": { "input": { "username": user.username, "password": user.password } },
        }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["data"]["login"]
        .clone();

    // Act
    let seen_from_first = sessions(&app, str_field(&first, "accessToken")).await;
    let seen_from_second = sessions(&app, str_field(&second, "accessToken")).await;

    // Assert: both sessions, newest first, `current` following the token used.
    let ids = |list: &[Value]| -> Vec<String> {
        list.iter().map(|s| str_field(s, "id").to_owned()).collect()
    };
    assert_eq!(ids(&seen_from_first), vec![sid(&second), sid(&first)]);
    assert_eq!(ids(&seen_from_second), ids(&seen_from_first));
    let current = |list: &[Value]| -> Vec<bool> {
        list.iter()
            .map(|s| s["current"].as_bool().unwrap())
            .collect()
    };
    assert_eq!(current(&seen_from_first), vec![false, true]);
    assert_eq!(current(&seen_from_second), vec![true, false]);
    let newest = &seen_from_first[0];
    assert_eq!(newest["userAgent"], "Latchkey-Test/2.0 (second device)");
    assert_eq!(newest["ip"], "127.0.0.1");
    assert!(newest["lastUsedAt"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_most_session_ttl_after_login() {
    // Arrange: a session ttl far shorter than the access token's (15 min).
    let app = TestApp::spawn_with(|s| s.session_ttl = Duration::from_secs(3)).await;
    let (_, login) = app.signed_in_user().await;
    let created = sessions(&app, str_field(&login, "accessToken")).await;
    app.clock.advance(Duration::from_millis(1500));
    let refreshed = app.refresh(str_field(&login, "refreshToken")).await;
    let refreshed = refreshed.assert_ok()["refresh"].clone();

    // Act: past the session's end, though refreshed half-way.
    app.clock.advance(Duration::from_millis(2000));
    let refresh = app.refresh(str_field(&refreshed, "refreshToken")).await;
    let me = app.me(Some(str_field(&refreshed, "accessToken"))).await;

    // Assert: refreshing did not extend the session, and its live access token died with it.
    let created_at = str_field(&created[0], "created");
    let expires_at = str_field(&created[0], "expiresAt");
    assert!(expires_at > created_at, "{created:#?}");
    refresh.assert_error("UNAUTHENTICATED", 401);
    me.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_session_ends_another_of_your_sessions_and_its_tokens_at_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, lost_phone) = app.signed_in_user().await;
    let laptop = app.login_username(&user).await;

    // Act
    let revoked = app
        .gql_with_token(
            str_field(&laptop, "accessToken"),
            REVOKE,
            json!({ "id": sid(&lost_phone) }),
        )
        .await;

    // Assert
    assert_eq!(revoked.assert_ok()["revokeSession"], true);
    app.me(Some(str_field(&lost_phone, "accessToken")))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.refresh(str_field(&lost_phone, "refreshToken"))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(str_field(&laptop, "accessToken")))
        .await
        .assert_ok();
    let left = sessions(&app, str_field(&laptop, "accessToken")).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], json!(sid(&laptop)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_session_of_someone_else_answers_false_like_an_unknown_id_and_changes_nothing() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, victim) = app.signed_in_user().await;
    let (_, attacker) = app.signed_in_user().await;
    let attacker_token = str_field(&attacker, "accessToken");

    // Act
    let theirs = app
        .gql_with_token(attacker_token, REVOKE, json!({ "id": sid(&victim) }))
        .await;
    let unknown = app
        .gql_with_token(
            attacker_token,
            REVOKE,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;

    // Assert: the same answer for both, and the victim's session lives on.
    assert_eq!(theirs.assert_ok()["revokeSession"], false);
    assert_eq!(unknown.assert_ok()["revokeSession"], false);
    app.me(Some(str_field(&victim, "accessToken")))
        .await
        .assert_ok();
    app.refresh(str_field(&victim, "refreshToken"))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_session_with_a_malformed_id_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;

    // Act
    let response = app
        .gql_with_token(
            str_field(&login, "accessToken"),
            REVOKE,
            json!({ "id": "not-a-session" }),
        )
        .await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
    assert!(
        response.error_message().starts_with("id:"),
        "{}",
        response.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_revoke_session_require_authentication() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let list = app.gql(SESSIONS, json!({})).await;
    let revoke = app
        .gql(REVOKE, json!({ "id": uuid::Uuid::now_v7().to_string() }))
        .await;

    // Assert
    list.assert_error("UNAUTHENTICATED", 401);
    revoke.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_out_session_is_no_longer_listed() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, leaving) = app.signed_in_user().await;
    let staying = app.login_username(&user).await;

    // Act
    app.logout(str_field(&leaving, "refreshToken"))
        .await
        .assert_ok();

    // Assert
    let left = sessions(&app, str_field(&staying, "accessToken")).await;
    let ids: Vec<&Value> = left.iter().map(|s| &s["id"]).collect();
    assert_eq!(ids, vec![&json!(sid(&staying))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_instance_is_seen_by_another_within_the_session_cache_ttl() {
    // Arrange: two instances sharing one database; the other has the session cached.
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (_, session) = app.signed_in_user().await;
    other
        .me(Some(str_field(&session, "accessToken")))
        .await
        .assert_ok();

    // Act
    app.logout(str_field(&session, "refreshToken"))
        .await
        .assert_ok();
    // On PostgreSQL the other instance hears it in milliseconds
    // (session_cache::a_revocation_on_one_instance_is_refused_on_another_within_a_second);
    // whatever it cannot hear (two servers on one SQLite file) lives at most the ttl.
    app.clock.advance(Duration::from_secs(1));

    // Assert
    other
        .me(Some(str_field(&session, "accessToken")))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_of_a_revoked_session_is_refused_even_within_the_grace_window() {
    // Arrange: a rotated token, still inside the default 10 s grace window.
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let rotated_from = str_field(&login, "refreshToken").to_owned();
    let refreshed = app.refresh(&rotated_from).await.assert_ok()["refresh"].clone();
    let revoked = app
        .gql_with_token(
            str_field(&refreshed, "accessToken"),
            REVOKE,
            json!({ "id": sid(&refreshed) }),
        )
        .await;
    assert_eq!(revoked.assert_ok()["revokeSession"], true);

    // Act
    let response = app.refresh(&rotated_from).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
}
