//! The three token modes (`JSON`, `COOKIE`, `SESSION`) of `login` and `refresh`, seen from a
//! browser with its own cookie jar, and the exact attributes of the cookies they set.

use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use latchkey_api::config::{CookieSettings, RawSettings, Settings};
use serde_json::{Value, json};

use crate::browser::{
    ACCESS_COOKIE, Browser, DEVICE_COOKIE, REFRESH, REFRESH_COOKIE, set_cookie, set_cookies,
};
use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};

/// The contract's default lifetimes.
const ACCESS_TTL_SECS: i64 = 15 * 60;
const SESSION_TTL_SECS: i64 = 30 * 24 * 60 * 60;

/// Cookie settings exactly as an operator would get them from `latchkey.toml`.
fn cookie_settings(secure: bool, same_site: &str) -> CookieSettings {
    Settings::from_raw(RawSettings {
        cookie_secure: secure,
        cookie_same_site: same_site.into(),
        ..RawSettings::default()
    })
    .expect("valid cookie settings")
    .cookies
}

/// A registered user and a browser with an empty jar.
async fn user_and_browser(app: &TestApp) -> (TestUser, Value, Browser) {
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    (user, registered, Browser::new(app))
}

#[track_caller]
fn assert_no_set_cookie(response: &GqlResponse) {
    let all = set_cookies(response);
    assert!(all.is_empty(), "expected no Set-Cookie, got {all:#?}");
}

/// The names of the cookies an answer sets, sorted.
fn cookie_names(response: &GqlResponse) -> Vec<String> {
    let mut names: Vec<String> = set_cookies(response).into_iter().map(|c| c.name).collect();
    names.sort();
    names
}

#[track_caller]
fn assert_bearer_header(response: &GqlResponse, access_token: &str) {
    let header = response
        .headers
        .get("authorization")
        .expect("an Authorization response header")
        .to_str()
        .expect("an ASCII header");
    assert_eq!(header, format!("Bearer {access_token}"));
}

/// A cookie set at login lives exactly as long as its token: `Max-Age` counts from the
/// moment the tokens were minted, not from when the answer was written.
#[track_caller]
fn assert_lifetime(max_age: i64, lifetime_secs: i64, what: &str) {
    assert_eq!(max_age, lifetime_secs, "{what}: Max-Age");
}

/// The `AuthPayload` carries no token at all (the `SESSION` shape).
#[track_caller]
fn assert_no_token_in_body(payload: &Value) {
    assert_eq!(payload["accessToken"], Value::Null, "{payload:#}");
    assert_eq!(payload["refreshToken"], Value::Null, "{payload:#}");
    assert_eq!(payload["credentials"]["token"], Value::Null, "{payload:#}");
    assert_eq!(
        payload["credentials"]["refreshToken"],
        Value::Null,
        "{payload:#}"
    );
}

// ----- JSON -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_login_puts_both_tokens_in_the_body_and_sets_no_token_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "JSON").await;

    // Assert
    let payload = &response.assert_ok()["login"];
    let access_token = str_field(payload, "accessToken");
    let refresh_token = str_field(payload, "refreshToken");
    assert_eq!(payload["credentials"]["token"], json!(access_token));
    assert_eq!(payload["credentials"]["refreshToken"], json!(refresh_token));
    assert_eq!(payload["user"]["id"], registered["id"]);
    assert_bearer_header(&response, access_token);
    // No token in a cookie; only the known-device cookie, which every login sets.
    assert_eq!(cookie_names(&response), [DEVICE_COOKIE]);
    assert_eq!(browser.cookie(ACCESS_COOKIE), None);
    assert_eq!(browser.cookie(REFRESH_COOKIE), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_in_json_mode_with_the_refresh_cookie_is_refused_and_rotates_nothing() {
    // Arrange: the HttpOnly refresh cookie is the only copy of the token.
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();

    // Act: script asks for the cookie's successor in the body.
    let response = browser.refresh(Some("JSON")).await;

    // Assert: refused, nothing in the body, and the cookie still refreshes (as the
    // session's own mode).
    response.assert_error("BAD_USER_INPUT", 400);
    assert_no_set_cookie(&response);
    let again = browser.refresh(None).await;
    assert_no_token_in_body(&again.assert_ok()["refresh"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_cookie_of_a_json_session_is_answered_in_cookie_mode() {
    // Arrange: a JSON login that moved its refresh token into the cookie once; the
    // session's own mode is still JSON.
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    let login = browser.login(&user, "JSON").await.assert_ok()["login"].clone();
    browser
        .post(
            REFRESH,
            json!({ "refreshToken": str_field(&login, "refreshToken"), "mode": "COOKIE" }),
        )
        .await
        .assert_ok();

    // Act: refresh with the cookie, no mode.
    let response = browser.refresh(None).await;

    // Assert: the successor stayed in the cookie.
    let payload = &response.assert_ok()["refresh"];
    assert_eq!(payload["refreshToken"], json!(null));
    assert_eq!(payload["credentials"]["refreshToken"], json!(null));
    let refresh_cookie = set_cookie(&response, REFRESH_COOKIE);
    app.refresh(&refresh_cookie.value).await.assert_ok();
}

// ----- COOKIE -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_login_puts_the_access_token_in_the_body_and_the_refresh_token_only_in_a_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "COOKIE").await;

    // Assert
    let payload = &response.assert_ok()["login"];
    let access_token = str_field(payload, "accessToken");
    assert_eq!(payload["credentials"]["token"], json!(access_token));
    assert_eq!(payload["refreshToken"], Value::Null, "{payload:#}");
    assert_eq!(
        payload["credentials"]["refreshToken"],
        Value::Null,
        "{payload:#}"
    );
    // Of the tokens, only the refresh token in a cookie (and the known-device cookie,
    // which every login sets).
    assert_eq!(cookie_names(&response), [DEVICE_COOKIE, REFRESH_COOKIE]);
    let refresh_cookie = set_cookie(&response, REFRESH_COOKIE);
    assert!(!refresh_cookie.value.is_empty());
    assert_ne!(refresh_cookie.value, access_token);
    assert_eq!(browser.cookie(REFRESH_COOKIE), Some(refresh_cookie.value));
    assert_eq!(browser.cookie(ACCESS_COOKIE), None);
    let me = app.me(Some(access_token)).await;
    assert_eq!(me.assert_ok()["me"]["id"], registered["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_refresh_without_an_argument_uses_the_refresh_cookie_and_rotates_it() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;
    browser.login(&user, "COOKIE").await.assert_ok();
    let old_cookie = browser.cookie(REFRESH_COOKIE).expect("a refresh cookie");

    // Act
    let response = browser.refresh(None).await;

    // Assert: still COOKIE mode (the session's own), with a new refresh cookie.
    let payload = &response.assert_ok()["refresh"];
    let access_token = str_field(payload, "accessToken");
    assert_eq!(payload["refreshToken"], Value::Null, "{payload:#}");
    assert_eq!(
        payload["credentials"]["refreshToken"],
        Value::Null,
        "{payload:#}"
    );
    assert_eq!(payload["user"]["id"], registered["id"]);
    let new_cookie = set_cookie(&response, REFRESH_COOKIE);
    assert_ne!(new_cookie.value, old_cookie);
    assert_eq!(browser.cookie(REFRESH_COOKIE), Some(new_cookie.value));
    app.me(Some(access_token)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_cookie_replayed_after_the_grace_window_is_refresh_token_reused() {
    // Arrange: a copy of the refresh cookie taken before the browser refreshed, replayed
    // once the (default, 10 s) grace window has passed.
    let app = TestApp::spawn_with(|s| s.refresh_reuse_grace = Duration::from_secs(10)).await;
    let (user, _, browser) = user_and_browser(&app).await;
    browser.login(&user, "COOKIE").await.assert_ok();
    let stolen = Browser::new(&app);
    stolen.set_cookie(
        REFRESH_COOKIE,
        &browser.cookie(REFRESH_COOKIE).expect("a refresh cookie"),
    );
    browser.refresh(None).await.assert_ok();
    app.clock.advance(Duration::from_secs(11));

    // Act
    let response = stolen.refresh(None).await;

    // Assert: the reuse is refused, and the whole session with it.
    response.assert_error("REFRESH_TOKEN_REUSED", 401);
    assert_no_set_cookie(&response);
    browser
        .refresh(None)
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_in_cookie_mode_moves_the_refresh_token_from_the_body_into_a_cookie() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    let login = browser.login(&user, "JSON").await.assert_ok()["login"].clone();

    // Act
    let response = browser
        .post(
            REFRESH,
            json!({ "refreshToken": str_field(&login, "refreshToken"), "mode": "COOKIE" }),
        )
        .await;

    // Assert
    let payload = &response.assert_ok()["refresh"];
    let access_token = str_field(payload, "accessToken");
    assert_eq!(payload["refreshToken"], Value::Null, "{payload:#}");
    assert_eq!(
        payload["credentials"]["refreshToken"],
        Value::Null,
        "{payload:#}"
    );
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "only the refresh cookie: {cookies:#?}");
    let refresh_cookie = set_cookie(&response, REFRESH_COOKIE);
    assert_ne!(json!(refresh_cookie.value), login["refreshToken"]);
    app.me(Some(access_token)).await.assert_ok();
    app.refresh(&refresh_cookie.value).await.assert_ok();
}

// ----- SESSION -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_login_puts_no_token_in_the_body_and_sets_both_cookies() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "SESSION").await;

    // Assert
    let payload = &response.assert_ok()["login"];
    assert_no_token_in_body(payload);
    assert_eq!(payload["credentials"]["identityId"], registered["id"]);
    assert!(
        response.headers.get("authorization").is_none(),
        "SESSION mode shows the access token to no script: {response:#?}"
    );
    let access = set_cookie(&response, ACCESS_COOKIE);
    let refresh = set_cookie(&response, REFRESH_COOKIE);
    assert!(!access.value.is_empty());
    assert!(!refresh.value.is_empty());
    assert_ne!(access.value, refresh.value);
    assert_eq!(browser.cookie(ACCESS_COOKIE), Some(access.value));
    assert_eq!(browser.cookie(REFRESH_COOKIE), Some(refresh.value));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_session_login_me_works_through_the_cookie_jar_alone() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();

    // Act
    let response = browser.me().await;

    // Assert
    let me = &response.assert_ok()["me"];
    assert_eq!(me["id"], registered["id"]);
    assert_eq!(me["username"], json!(user.username));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_refresh_without_an_argument_answers_in_session_mode_again() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();
    let old_access = browser.cookie(ACCESS_COOKIE).expect("an access cookie");
    let old_refresh = browser.cookie(REFRESH_COOKIE).expect("a refresh cookie");

    // Act
    let response = browser.refresh(None).await;

    // Assert
    let payload = &response.assert_ok()["refresh"];
    assert_no_token_in_body(payload);
    assert_eq!(payload["user"]["id"], registered["id"]);
    assert!(response.headers.get("authorization").is_none());
    let access = set_cookie(&response, ACCESS_COOKIE);
    let refresh = set_cookie(&response, REFRESH_COOKIE);
    assert_ne!(access.value, old_access);
    assert_ne!(refresh.value, old_refresh);
    assert_eq!(browser.cookie(REFRESH_COOKIE), Some(refresh.value));
    let me = browser.me().await;
    assert_eq!(me.assert_ok()["me"]["id"], registered["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_without_mode_keeps_the_login_mode_even_after_a_refresh_in_another_mode() {
    // Arrange: a SESSION login, then one refresh that asked for JSON (by a client that
    // holds the token itself: one read from the cookie never comes back in the body).
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();
    let cookie = browser.cookie(REFRESH_COOKIE).expect("a refresh cookie");
    let in_json = app
        .gql(REFRESH, json!({ "refreshToken": cookie, "mode": "JSON" }))
        .await
        .assert_ok()["refresh"]
        .clone();

    // Act
    let response = browser
        .post(
            REFRESH,
            json!({ "refreshToken": str_field(&in_json, "refreshToken") }),
        )
        .await;

    // Assert: back in SESSION mode, the mode the session was opened with.
    assert_no_token_in_body(&response.assert_ok()["refresh"]);
    set_cookie(&response, ACCESS_COOKIE);
    set_cookie(&response, REFRESH_COOKIE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_in_session_mode_moves_both_tokens_from_the_body_into_cookies() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, registered, browser) = user_and_browser(&app).await;
    let login = browser.login(&user, "JSON").await.assert_ok()["login"].clone();

    // Act
    let response = browser
        .post(
            REFRESH,
            json!({ "refreshToken": str_field(&login, "refreshToken"), "mode": "SESSION" }),
        )
        .await;

    // Assert
    assert_no_token_in_body(&response.assert_ok()["refresh"]);
    set_cookie(&response, ACCESS_COOKIE);
    set_cookie(&response, REFRESH_COOKIE);
    let me = browser.me().await;
    assert_eq!(me.assert_ok()["me"]["id"], registered["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_logout_without_an_argument_expires_both_cookies() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();

    // Act
    let response = browser.logout().await;

    // Assert
    assert_eq!(response.assert_ok()["logout"], json!(true));
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        let expired = set_cookie(&response, name);
        assert_eq!(expired.max_age(), 0, "{expired:#?}");
        assert_eq!(expired.attribute("Path"), Some("/"), "{expired:#?}");
        assert_eq!(browser.cookie(name), None, "the jar dropped `{name}`");
    }
    browser.me().await.assert_error("UNAUTHENTICATED", 401);
    browser
        .refresh(None)
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_session_logout_the_old_cookie_values_no_longer_work() {
    // Arrange: copies of both cookies, put back into the jar after the logout.
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();
    let access = browser.cookie(ACCESS_COOKIE).expect("an access cookie");
    let refresh = browser.cookie(REFRESH_COOKIE).expect("a refresh cookie");
    assert_eq!(browser.logout().await.assert_ok()["logout"], json!(true));
    browser.set_cookie(ACCESS_COOKIE, &access);
    browser.set_cookie(REFRESH_COOKIE, &refresh);

    // Act
    let me = browser.me().await;
    let refreshed = browser.refresh(None).await;

    // Assert: the session itself was revoked, not only the cookies dropped.
    me.assert_error("UNAUTHENTICATED", 401);
    refreshed.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_sets_no_cookie_in_any_mode() {
    // Arrange
    let app = TestApp::spawn().await;
    let (mut user, _, browser) = user_and_browser(&app).await;
    user.password.push_str("-wrong");

    for mode in ["JSON", "COOKIE", "SESSION"] {
        // Act
        let response = browser.login(&user, mode).await;

        // Assert
        response.assert_error("UNAUTHENTICATED", 401);
        assert_no_set_cookie(&response);
    }
    assert_eq!(browser.cookie(ACCESS_COOKIE), None);
    assert_eq!(browser.cookie(REFRESH_COOKIE), None);
}

// ----- Cookie attributes -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cookie_secure_the_cookies_have_plain_names_and_no_secure_flag() {
    // Arrange: the test settings have cookie_secure = false and the default SameSite.
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "SESSION").await;

    // Assert
    response.assert_ok();
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 3, "{cookies:#?}");
    for name in [ACCESS_COOKIE, REFRESH_COOKIE, DEVICE_COOKIE] {
        let cookie = set_cookie(&response, name);
        assert!(cookie.has("HttpOnly"), "{cookie:#?}");
        assert!(!cookie.has("Secure"), "{cookie:#?}");
        assert_eq!(cookie.attribute("Path"), Some("/"), "{cookie:#?}");
        assert_eq!(cookie.attribute("SameSite"), Some("Lax"), "{cookie:#?}");
        assert!(!cookie.has("Domain"), "{cookie:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_cookie_secure_the_cookies_get_the_host_prefix_and_the_secure_flag() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.cookies = cookie_settings(true, "lax")).await;
    let (user, _, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "SESSION").await;

    // Assert
    response.assert_ok();
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 3, "{cookies:#?}");
    for name in [
        "__Host-latchkey_access",
        "__Host-latchkey_refresh",
        "__Host-latchkey_device",
    ] {
        let cookie = set_cookie(&response, name);
        assert!(cookie.has("Secure"), "{cookie:#?}");
        assert!(cookie.has("HttpOnly"), "{cookie:#?}");
        assert_eq!(cookie.attribute("Path"), Some("/"), "{cookie:#?}");
        assert_eq!(cookie.attribute("SameSite"), Some("Lax"), "{cookie:#?}");
        assert!(!cookie.has("Domain"), "{cookie:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_prefixed_cookies_carry_a_session_through_a_browser() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.cookies = cookie_settings(true, "lax")).await;
    let (user, registered, browser) = user_and_browser(&app).await;
    browser.login(&user, "SESSION").await.assert_ok();
    let refreshed = browser.refresh(None).await;
    assert_no_token_in_body(&refreshed.assert_ok()["refresh"]);

    // Act
    let me = browser.me().await;
    let logout = browser.logout().await;

    // Assert
    assert_eq!(me.assert_ok()["me"]["id"], registered["id"]);
    assert_eq!(logout.assert_ok()["logout"], json!(true));
    for name in ["__Host-latchkey_access", "__Host-latchkey_refresh"] {
        assert_eq!(set_cookie(&logout, name).max_age(), 0);
        assert_eq!(browser.cookie(name), None);
    }
    browser.me().await.assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_site_none_is_written_when_configured() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.cookies = cookie_settings(true, "none")).await;
    let (user, _, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "SESSION").await;

    // Assert
    response.assert_ok();
    for name in [
        "__Host-latchkey_access",
        "__Host-latchkey_refresh",
        "__Host-latchkey_device",
    ] {
        let cookie = set_cookie(&response, name);
        assert_eq!(cookie.attribute("SameSite"), Some("None"), "{cookie:#?}");
        assert!(cookie.has("Secure"), "{cookie:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_the_access_cookie_lives_as_long_as_the_access_token_and_the_refresh_cookie_as_the_session()
 {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;

    // Act
    let response = browser.login(&user, "SESSION").await;

    // Assert
    assert_eq!(
        response.assert_ok()["login"]["expires"],
        json!(ACCESS_TTL_SECS * 1000)
    );
    let access = set_cookie(&response, ACCESS_COOKIE).max_age();
    let refresh = set_cookie(&response, REFRESH_COOKIE).max_age();
    assert_lifetime(access, ACCESS_TTL_SECS, "access cookie");
    assert_lifetime(refresh, SESSION_TTL_SECS, "refresh cookie");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_lifetimes_follow_the_configured_token_lifetimes() {
    // Arrange
    let app = TestApp::spawn_with(|s| {
        s.access_token_ttl = Duration::from_secs(45);
        s.session_ttl = Duration::from_secs(2 * 60 * 60);
    })
    .await;
    let (user, _, browser) = user_and_browser(&app).await;

    // Act
    let session = browser.login(&user, "SESSION").await;
    let cookie = Browser::new(&app).login(&user, "COOKIE").await;

    // Assert
    session.assert_ok();
    cookie.assert_ok();
    assert_lifetime(
        set_cookie(&session, ACCESS_COOKIE).max_age(),
        45,
        "access cookie",
    );
    assert_lifetime(
        set_cookie(&session, REFRESH_COOKIE).max_age(),
        2 * 60 * 60,
        "refresh cookie (SESSION)",
    );
    assert_lifetime(
        set_cookie(&cookie, REFRESH_COOKIE).max_age(),
        2 * 60 * 60,
        "refresh cookie (COOKIE)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_refresh_the_refresh_cookie_lives_only_the_rest_of_the_session() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, _, browser) = user_and_browser(&app).await;
    let login = browser.login(&user, "COOKIE").await;
    let at_login = set_cookie(&login, REFRESH_COOKIE).max_age();
    let at_login_time = app.clock.now();
    // Just over a second, so the remaining life loses at least one whole second, while a
    // life restarted at the full session length would lose none.
    app.clock.advance(Duration::from_millis(1_100));

    // Act
    let response = browser.refresh(None).await;

    // Assert
    response.assert_ok();
    let after_refresh = set_cookie(&response, REFRESH_COOKIE).max_age();
    let elapsed = (app.clock.now() - at_login_time).num_seconds() + 1;
    assert_lifetime(at_login, SESSION_TTL_SECS, "refresh cookie at login");
    assert!(
        after_refresh <= SESSION_TTL_SECS - 2,
        "the refresh cookie's life restarted: Max-Age {after_refresh} after a refresh"
    );
    assert!(
        after_refresh >= at_login - elapsed - 1,
        "the refresh cookie lost more than the time that passed: {at_login} then {after_refresh}"
    );
}
