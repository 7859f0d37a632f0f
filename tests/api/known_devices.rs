//! Known devices (OWASP "device cookies"): a browser that logged in to an account is judged
//! by its own failures, so whoever locks the account from elsewhere does not lock its owner
//! out of their own browser; everyone else still meets the lock.

use std::time::Duration;

use serde_json::json;

use crate::browser::{Browser, DEVICE_COOKIE, set_cookie, set_cookies};
use crate::helpers::{TestApp, TestUser, login_document};

/// The contract's default `login_free_failures`.
const FREE_FAILURES: usize = 5;

/// Logs in by username with `password` (JSON mode).
async fn login_as(
    browser: &Browser,
    user: &TestUser,
    password: &str,
) -> crate::helpers::GqlResponse {
    let input = json!({ "username": user.username, "password": password });
    browser
        .post(&login_document(), json!({ "input": input }))
        .await
}

/// An app whose address budget is out of the way (every browser here is 127.0.0.1), on a
/// clock that stands still so no lock runs out by itself.
async fn app() -> TestApp {
    let app = TestApp::spawn_with(|s| s.ip_failures_per_minute = 10_000).await;
    app.clock.stop();
    app
}

/// A registered user, and their own browser, which has logged in once (and so is known).
async fn owner_with_known_browser(app: &TestApp) -> (TestUser, Browser) {
    let user = TestUser::generate();
    app.register(&user).await;
    let browser = Browser::new(app);
    login_as(&browser, &user, &user.password).await.assert_ok();
    assert!(browser.cookie(DEVICE_COOKIE).is_some(), "no device cookie");
    (user, browser)
}

/// Someone without the owner's browser runs the account into its lock.
async fn lock_from_elsewhere(app: &TestApp, user: &TestUser) {
    let attacker = Browser::new(app);
    for _ in 0..FREE_FAILURES {
        login_as(&attacker, user, "guess")
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    login_as(&attacker, user, &user.password)
        .await
        .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_login_sets_an_http_only_device_cookie_in_every_mode() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    for mode in ["JSON", "COOKIE", "SESSION"] {
        // Act
        let browser = Browser::new(&app);
        let response = browser.login(&user, mode).await;

        // Assert
        response.assert_ok();
        let device = set_cookie(&response, DEVICE_COOKIE);
        assert!(device.value.starts_with("lkd_"), "{device:?}");
        assert!(device.has("HttpOnly"), "{device:?}");
        assert_eq!(device.attribute("Path"), Some("/"));
        assert_eq!(device.attribute("SameSite"), Some("Lax"));
        assert_eq!(device.max_age(), 90 * 24 * 60 * 60, "{mode}");
    }
    // A failed login sets nothing.
    let stranger = Browser::new(&app);
    let failed = login_as(&stranger, &user, "wrong").await;
    failed.assert_error("UNAUTHENTICATED", 401);
    assert!(set_cookies(&failed).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_on_a_known_browser_gets_in_while_an_attacker_keeps_the_account_locked() {
    // Arrange
    let app = app().await;
    let (user, owner) = owner_with_known_browser(&app).await;

    // Act: someone elsewhere locks the account.
    lock_from_elsewhere(&app, &user).await;

    // Assert: the owner's browser is not locked out...
    login_as(&owner, &user, &user.password).await.assert_ok();
    // ...a browser without the cookie still is, even with the right password...
    let other = Browser::new(&app);
    login_as(&other, &user, &user.password)
        .await
        .assert_error("RATE_LIMITED", 429);
    // ...and the owner's success did not lift the lock for the attacker.
    login_as(&other, &user, "guess")
        .await
        .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cookie_of_one_account_does_not_help_on_another() {
    // Arrange: the browser is known to A, and B is locked.
    let app = app().await;
    let (_a, browser) = owner_with_known_browser(&app).await;
    let b = TestUser::generate();
    app.register(&b).await;
    lock_from_elsewhere(&app, &b).await;

    // Act: A's browser tries B's right password.
    let response = login_as(&browser, &b, &b.password).await;

    // Assert
    response.assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_garbled_device_cookies_are_ignored() {
    // Arrange
    let app = app().await;
    let user = TestUser::generate();
    app.register(&user).await;
    lock_from_elsewhere(&app, &user).await;
    let forged = format!("lkd_{}", "A".repeat(43));

    for value in [forged.as_str(), "lkd_short", "garbage", "%00%ff", ""] {
        // Act
        let browser = Browser::new(&app);
        browser.set_cookie(DEVICE_COOKIE, value);
        let response = login_as(&browser, &user, &user.password).await;

        // Assert: judged as any other browser: locked (not a bypass, not an error).
        response.assert_error("RATE_LIMITED", 429);
    }
    // Unlocked, a garbled cookie is no obstacle either: the login succeeds and the
    // browser gets a real device cookie in its place.
    app.clock.advance(Duration::from_secs(2));
    let browser = Browser::new(&app);
    browser.set_cookie(DEVICE_COOKIE, "garbage");
    login_as(&browser, &user, &user.password).await.assert_ok();
    let value = browser.cookie(DEVICE_COOKIE).unwrap();
    assert!(value.starts_with("lkd_"), "{value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_a_known_browser_lock_that_browser_not_the_account() {
    // Arrange
    let app = app().await;
    let (user, owner) = owner_with_known_browser(&app).await;

    // Act: wrong passwords from the known browser.
    for _ in 0..FREE_FAILURES {
        login_as(&owner, &user, "typo")
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: that browser is locked, even with the right password...
    let locked = login_as(&owner, &user, &user.password).await;
    locked.assert_error("RATE_LIMITED", 429);
    assert_eq!(
        locked.body["errors"][0]["extensions"]["retryAfter"],
        json!(1)
    );
    // ...but the account is not: another browser gets in.
    let other = Browser::new(&app);
    login_as(&other, &user, &user.password).await.assert_ok();
    // Once the device's lock is over, the owner's browser gets in again.
    app.clock.advance(Duration::from_secs(2));
    login_as(&owner, &user, &user.password).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_device_is_forgotten_after_its_lifetime_and_kept_by_logout() {
    // Arrange
    let app = app().await;
    let (user, owner) = owner_with_known_browser(&app).await;

    // Act: logging out keeps the device cookie: it names the browser, not a session.
    let logout = owner.logout().await;
    logout.assert_ok();
    assert!(
        set_cookies(&logout).iter().all(|c| c.name != DEVICE_COOKIE),
        "logout must leave the device cookie"
    );
    // 91 days without a login here: the device is forgotten (the server does not trust
    // the browser to drop the cookie on time).
    app.clock.advance(Duration::from_secs(91 * 24 * 60 * 60));
    lock_from_elsewhere(&app, &user).await;

    // Assert
    login_as(&owner, &user, &user.password)
        .await
        .assert_error("RATE_LIMITED", 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_keeps_twenty_devices_and_forgets_the_least_recently_used() {
    // Arrange: the owner's first browser, then twenty more, each logging in later.
    let app = app().await;
    let (user, first) = owner_with_known_browser(&app).await;
    let mut later = Vec::new();
    for _ in 0..20 {
        app.clock.advance(Duration::from_secs(1));
        let browser = Browser::new(&app);
        login_as(&browser, &user, &user.password).await.assert_ok();
        later.push(browser);
    }

    // Act
    lock_from_elsewhere(&app, &user).await;

    // Assert: the oldest browser is no longer known; the twenty newest are.
    login_as(&first, &user, &user.password)
        .await
        .assert_error("RATE_LIMITED", 429);
    login_as(&later[0], &user, &user.password).await.assert_ok();
    login_as(&later[19], &user, &user.password)
        .await
        .assert_ok();
}
