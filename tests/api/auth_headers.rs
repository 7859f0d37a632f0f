//! Personal tokens ("auth headers"): made once, shown once, stored hashed, acting as their
//! owner from the header or the query parameter (never a cookie) until deleted or expired.

use std::sync::Arc;
use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use serde_json::{Value, json};

use crate::browser::ACCESS_COOKIE;
use crate::cli::{latchkey, stderr};
use crate::helpers::{GqlResponse, ME, TestApp, str_field};

const ADD: &str = "mutation Add($name: String!, $expiresAt: DateTime) { \
    addAuthHeader(name: $name, expiresAt: $expiresAt) { \
      token authHeader { id name prefix created lastUsedAt expiresAt } } }";
const LIST: &str = "query { authHeaders { id name prefix created lastUsedAt expiresAt } }";
const DELETE: &str =
    "mutation Delete($id: ID, $token: String) { deleteAuthHeader(id: $id, token: $token) }";

/// A signed-in user's access token.
async fn access_token(app: &TestApp) -> String {
    let (_, login) = app.signed_in_user().await;
    str_field(&login, "accessToken").to_owned()
}

async fn add(app: &TestApp, access_token: &str, name: &str) -> GqlResponse {
    app.gql_with_token(access_token, ADD, json!({ "name": name }))
        .await
}

/// Makes an auth header; returns `(token, its listing)`.
async fn made(app: &TestApp, access_token: &str, name: &str) -> (String, Value) {
    let response = add(app, access_token, name).await;
    let new = response.assert_ok()["addAuthHeader"].clone();
    (
        str_field(&new, "token").to_owned(),
        new["authHeader"].clone(),
    )
}

async fn list(app: &TestApp, token: &str) -> GqlResponse {
    app.gql_with_token(token, LIST, json!({})).await
}

async fn me_via_query_parameter(app: &TestApp, token: &str) -> GqlResponse {
    let response = app
        .client
        // Tokens are base64url: nothing in them needs escaping in a query string.
        .post(app.url(&format!("/graphql?access_token={token}")))
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    GqlResponse::from_response(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_auth_header_returns_an_lk_token_once_with_its_listing() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;

    // Act
    let (token, listed) = made(&app, &access, "CI deploy").await;

    // Assert
    assert!(token.starts_with("lk_"), "{token}");
    assert_eq!(token.len(), 3 + 43);
    assert_eq!(listed["name"], "CI deploy");
    let prefix = str_field(&listed, "prefix");
    assert!(token.starts_with(prefix) && prefix.len() < 16, "{prefix}");
    assert!(listed["lastUsedAt"].is_null());
    // No expiry asked for: the longest allowed, a year by default.
    let expires_at: chrono::DateTime<chrono::Utc> =
        str_field(&listed, "expiresAt").parse().unwrap();
    let in_a_year = app.clock.now() + chrono::Duration::days(365);
    assert!(
        (expires_at - in_a_year).num_seconds().abs() < 60,
        "{expires_at} is not a year from now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_header_acts_as_its_owner_from_the_header_but_never_from_the_query_parameter() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;
    let (token, _) = made(&app, str_field(&login, "accessToken"), "script").await;

    // Act
    let via_header = app.me(Some(&token)).await;
    let via_query = me_via_query_parameter(&app, &token).await;

    // Assert: a URL is logged and leaks; the refusal says where the token goes instead.
    assert_eq!(
        via_header.assert_ok()["me"]["username"],
        json!(user.username)
    );
    via_query.assert_error("UNAUTHENTICATED", 401);
    assert!(
        via_query.error_message().contains("Authorization: Bearer"),
        "{}",
        via_query.error_message()
    );
    // An access token still works there.
    me_via_query_parameter(&app, str_field(&login, "accessToken"))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_beyond_the_longest_lifetime_is_clamped_and_the_answer_says_so() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.auth_header_max_ttl = Duration::from_secs(24 * 3600)).await;
    let access = access_token(&app).await;
    let asked = from_now(&app, Duration::from_secs(30 * 24 * 3600));

    // Act
    let response = app
        .gql_with_token(
            &access,
            ADD,
            json!({ "name": "too long", "expiresAt": asked }),
        )
        .await;

    // Assert: a day, not a month.
    let listed = &response.assert_ok()["addAuthHeader"]["authHeader"];
    let expires_at: chrono::DateTime<chrono::Utc> = str_field(listed, "expiresAt").parse().unwrap();
    let in_a_day = app.clock.now() + chrono::Duration::days(1);
    assert!(
        (expires_at - in_a_day).num_seconds().abs() < 60,
        "{expires_at} is not a day from now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_headers_lists_your_own_without_ever_showing_a_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let (first, _) = made(&app, &access, "first").await;
    let (second, _) = made(&app, &access, "second").await;
    let other = access_token(&app).await;
    made(&app, &other, "someone else's").await;

    // Act
    let response = list(&app, &first).await;

    // Assert: newest first, only the caller's, and no token anywhere in the answer.
    let names: Vec<&str> = response.assert_ok()["authHeaders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| str_field(h, "name"))
        .collect();
    assert_eq!(names, vec!["second", "first"]);
    for token in [&first, &second] {
        assert!(!response.text.contains(token.as_str()), "{}", response.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_use_is_recorded_as_last_used_at() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let (token, _) = made(&app, &access, "used").await;

    // Act
    app.me(Some(&token)).await.assert_ok();

    // Assert: the use is written in the background; give it a moment.
    let mut last_used = Value::Null;
    for _ in 0..50 {
        last_used = list(&app, &access).await.assert_ok()["authHeaders"][0]["lastUsedAt"].clone();
        if last_used.is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(last_used.is_string(), "lastUsedAt was never recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_id_and_by_token_stop_the_token_at_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let (by_id, listed) = made(&app, &access, "by id").await;
    let (by_token, _) = made(&app, &access, "by token").await;
    app.me(Some(&by_id)).await.assert_ok();
    app.me(Some(&by_token)).await.assert_ok();

    // Act
    let deleted_by_id = app
        .gql_with_token(&access, DELETE, json!({ "id": listed["id"] }))
        .await;
    let deleted_by_token = app
        .gql_with_token(&access, DELETE, json!({ "token": by_token }))
        .await;

    // Assert
    assert_eq!(deleted_by_id.assert_ok()["deleteAuthHeader"], true);
    assert_eq!(deleted_by_token.assert_ok()["deleteAuthHeader"], true);
    for token in [&by_id, &by_token] {
        app.me(Some(token))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    let left = list(&app, &access).await;
    assert_eq!(left.assert_ok()["authHeaders"], json!([]));
    let again = app
        .gql_with_token(&access, DELETE, json!({ "id": listed["id"] }))
        .await;
    assert_eq!(again.assert_ok()["deleteAuthHeader"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_auth_header_cannot_be_deleted_and_the_answer_is_that_of_an_unknown_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let victim = access_token(&app).await;
    let (victims_token, victims_listing) = made(&app, &victim, "victim's").await;
    let attacker = access_token(&app).await;

    // Act
    let by_id = app
        .gql_with_token(&attacker, DELETE, json!({ "id": victims_listing["id"] }))
        .await;
    let by_token = app
        .gql_with_token(&attacker, DELETE, json!({ "token": victims_token }))
        .await;
    let unknown = app
        .gql_with_token(
            &attacker,
            DELETE,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;

    // Assert
    for response in [&by_id, &by_token, &unknown] {
        assert_eq!(response.assert_ok()["deleteAuthHeader"], false);
    }
    app.me(Some(&victims_token)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_auth_header_needs_exactly_one_well_formed_id_or_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let (token, listed) = made(&app, &access, "kept").await;

    // Act
    let both = app
        .gql_with_token(
            &access,
            DELETE,
            json!({ "id": listed["id"], "token": token }),
        )
        .await;
    let neither = app.gql_with_token(&access, DELETE, json!({})).await;
    let malformed_id = app
        .gql_with_token(&access, DELETE, json!({ "id": "not-an-id" }))
        .await;
    let malformed_token = app
        .gql_with_token(&access, DELETE, json!({ "token": "lk_short" }))
        .await;

    // Assert
    for response in [&both, &neither, &malformed_id] {
        response.assert_error("BAD_USER_INPUT", 400);
    }
    assert_eq!(malformed_token.assert_ok()["deleteAuthHeader"], false);
    app.me(Some(&token)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_header_stops_working_when_it_expires() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let expires_at = from_now(&app, Duration::from_secs(2));
    let response = app
        .gql_with_token(
            &access,
            ADD,
            json!({ "name": "short-lived", "expiresAt": expires_at }),
        )
        .await;
    let new = response.assert_ok()["addAuthHeader"].clone();
    let token = str_field(&new, "token").to_owned();
    app.me(Some(&token)).await.assert_ok();

    // Act
    app.clock.advance(Duration::from_millis(2500));
    let response = app.me(Some(&token)).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
    assert!(new["authHeader"]["expiresAt"].is_string());
}

/// An RFC 3339 instant `after` from now, as a client would compute it (a client in step
/// with the server's clock).
fn from_now(app: &TestApp, after: Duration) -> String {
    let at = app.clock.now() + after;
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_in_the_past_is_bad_user_input() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;

    // Act
    let response = app
        .gql_with_token(
            &access,
            ADD,
            json!({ "name": "stale", "expiresAt": "2020-01-01T00:00:00Z" }),
        )
        .await;

    // Assert
    response.assert_error("BAD_USER_INPUT", 400);
    assert!(
        response.error_message().starts_with("expiresAt:"),
        "{}",
        response.text
    );
    assert_eq!(
        list(&app, &access).await.assert_ok()["authHeaders"],
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_carrying_an_lk_token_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let (token, _) = made(&app, &access, "not for cookies").await;

    // Act
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("cookie", format!("{ACCESS_COOKIE}={token}"))
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    let response = GqlResponse::from_response(response).await;

    // Assert
    response.assert_error("UNAUTHENTICATED", 401);
    assert!(
        response.error_message().contains("cookie"),
        "{}",
        response.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_unique_per_user_and_bounded() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    made(&app, &access, "laptop").await;
    let other = access_token(&app).await;

    // Act
    let duplicate = add(&app, &access, " laptop ").await;
    let same_name_other_user = add(&app, &other, "laptop").await;
    let empty = add(&app, &access, "   ").await;
    let too_long = add(&app, &access, &"ü".repeat(101)).await;
    let longest = add(&app, &access, &"ü".repeat(100)).await;

    // Assert
    duplicate.assert_error("CONFLICT", 409);
    same_name_other_user.assert_ok();
    empty.assert_error("BAD_USER_INPUT", 400);
    too_long.assert_error("BAD_USER_INPUT", 400);
    longest.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_holds_at_most_fifty_live_auth_headers_even_when_adding_in_parallel() {
    // Arrange: 45 made one by one.
    let app = Arc::new(TestApp::spawn().await);
    let access = access_token(&app).await;
    for i in 0..45 {
        made(&app, &access, &format!("token {i}")).await;
    }

    // Act: ten more at once, racing for the last five places.
    let racers: Vec<_> = (0..10)
        .map(|i| {
            let (app, access) = (app.clone(), access.clone());
            tokio::spawn(async move { add(&app, &access, &format!("racer {i}")).await })
        })
        .collect();
    let mut answers = Vec::new();
    for racer in racers {
        answers.push(racer.await.unwrap());
    }

    // Assert: exactly five won; the others were told why.
    let won = answers
        .iter()
        .filter(|a| a.body["data"]["addAuthHeader"].is_object())
        .count();
    assert_eq!(won, 5);
    for refused in answers
        .iter()
        .filter(|a| !a.body["data"]["addAuthHeader"].is_object())
    {
        refused.assert_error("BAD_USER_INPUT", 400);
        assert!(refused.error_message().contains("50"), "{}", refused.text);
    }
    let listed = list(&app, &access).await;
    assert_eq!(
        listed.assert_ok()["authHeaders"].as_array().unwrap().len(),
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_token_cannot_make_another() {
    // Arrange
    let app = TestApp::spawn().await;
    let access = access_token(&app).await;
    let (token, _) = made(&app, &access, "script").await;

    // Act
    let response = add(&app, &token, "spawned").await;

    // Assert
    response.assert_error("FORBIDDEN", 403);
    let names = list(&app, &access).await.assert_ok()["authHeaders"].clone();
    assert_eq!(names.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_token_has_no_session_so_nothing_is_current_and_logout_ends_nothing() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let (token, _) = made(&app, access, "script").await;

    // Act
    let sessions = app
        .gql_with_token(&token, "query { sessions { current } }", json!({}))
        .await;
    let logout = app
        .gql_with_token(&token, "mutation { logout }", json!({}))
        .await;

    // Assert
    assert_eq!(
        sessions.assert_ok()["sessions"],
        json!([{ "current": false }])
    );
    assert_eq!(logout.assert_ok()["logout"], false);
    app.me(Some(access)).await.assert_ok();
    app.me(Some(&token)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_owner_stops_their_auth_headers_within_the_session_cache_ttl() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;
    let (token, _) = made(&app, str_field(&login, "accessToken"), "orphan").await;
    app.me(Some(&token)).await.assert_ok();

    // Act
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey(app.database_url(), workdir.path())
        .args(["user", "delete", "--username", &user.username])
        .output()
        .unwrap();

    // The CLI is another process: on SQLite the server cannot hear it, and answers what it
    // verified a moment ago for at most `session_cache_ttl` (1 s); on PostgreSQL it hears
    // the change in milliseconds, but this request may come first.
    app.clock.advance(Duration::from_secs(1));

    // Assert
    assert!(output.status.success(), "{}", stderr(&output));
    app.me(Some(&token))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(str_field(&login, "accessToken")))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_lk_tokens_are_unauthenticated() {
    // Arrange
    let app = TestApp::spawn().await;
    let unknown = format!("lk_{}", "A".repeat(43));

    // Act + Assert
    for token in ["lk_", "lk_short", unknown.as_str(), "lk_ünïcödé"] {
        app.me(Some(token))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_header_operations_require_authentication() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let listing = app.gql(LIST, json!({})).await;
    let adding = app.gql(ADD, json!({ "name": "x" })).await;
    let deleting = app
        .gql(DELETE, json!({ "id": uuid::Uuid::now_v7().to_string() }))
        .await;

    // Assert
    for response in [listing, adding, deleting] {
        response.assert_error("UNAUTHENTICATED", 401);
    }
}
