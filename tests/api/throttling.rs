//! Failed logins lock the account for a growing delay (kept in the database, so every
//! instance agrees), and failures from one client address are limited per minute.

use std::sync::Arc;
use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use serde_json::{Value, json};

use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};

fn wrong_password(user: &TestUser) -> Value {
    json!({ "username": user.username, "password": "not-the-password" })
}

fn right_password(user: &TestUser) -> Value {
    json!({ "username": user.username, "password": user.password })
}

/// The `retryAfter` of a `RATE_LIMITED` answer, checked to be a positive whole number.
#[track_caller]
fn retry_after(response: &GqlResponse) -> u64 {
    response.assert_error("RATE_LIMITED", 429);
    let seconds = response.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("RATE_LIMITED needs a whole retryAfter: {:#}", response.body));
    assert!(
        seconds > 0,
        "retryAfter must be positive: {:#}",
        response.body
    );
    seconds
}

/// Waits out a lock, with a little margin: on the server's clock, which takes no time.
fn wait(app: &TestApp, seconds: u64) {
    app.clock
        .advance(Duration::from_secs(seconds) + Duration::from_millis(150));
}

async fn app_with_free_failures(free: u32) -> TestApp {
    TestApp::spawn_with(move |s| s.login_free_failures = free).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brute_force_run_is_locked_out_for_a_growing_delay_and_then_recovers() {
    // Arrange
    let app = app_with_free_failures(2).await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act + Assert: the free failures answer as usual...
    for _ in 0..2 {
        app.login(wrong_password(&user))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    // ...then the account is locked for 1 s, whatever is tried.
    let first = retry_after(&app.login(wrong_password(&user)).await);
    assert_eq!(first, 1);
    wait(&app, first);
    // The next failure doubles the lock.
    app.login(wrong_password(&user))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    let second = retry_after(&app.login(wrong_password(&user)).await);
    assert_eq!(second, 2);
    wait(&app, second);

    // Once the lock has passed, the owner gets in.
    let response = app.login(right_password(&user)).await;
    assert!(!str_field(&response.assert_ok()["login"], "accessToken").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_while_locked_is_rate_limited_and_gets_no_token() {
    // Arrange
    let app = TestApp::spawn_with(|s| {
        s.login_free_failures = 2;
        s.login_lock_max = Duration::from_secs(60);
    })
    .await;
    let user = TestUser::generate();
    app.register(&user).await;
    for _ in 0..2 {
        app.login(wrong_password(&user)).await;
    }

    // Act
    let response = app
        .login(json!({ "username": user.username, "password": user.password, "mode": "SESSION" }))
        .await;

    // Assert: `assert_error` also checks that no token is in the body or the headers.
    assert_eq!(retry_after(&response), 1);
    assert!(
        response.headers.get("set-cookie").is_none(),
        "a refused login sets no cookie: {response:#?}"
    );
    assert_eq!(
        response.body["errors"][0]["message"],
        json!("too many attempts: try again later")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_login_resets_the_count() {
    // Arrange
    let app = app_with_free_failures(2).await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act: one failure, a success, one failure: never two in a row.
    app.login(wrong_password(&user))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.login(right_password(&user)).await.assert_ok();
    app.login(wrong_password(&user))
        .await
        .assert_error("UNAUTHENTICATED", 401);

    // Assert: not locked.
    app.login(right_password(&user)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_by_email_counts_against_the_same_account() {
    // Arrange
    let app = app_with_free_failures(2).await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    app.login(wrong_password(&user)).await;
    app.login(json!({ "email": user.email.to_uppercase(), "password": "nope-nope" }))
        .await
        .assert_error("UNAUTHENTICATED", 401);

    // Assert
    retry_after(&app.login(right_password(&user)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_holds_across_instances_sharing_the_database() {
    // Arrange: two instances of one deployment.
    let first = app_with_free_failures(2).await;
    let second = first
        .another_instance_with(|s| s.login_free_failures = 2)
        .await;
    let user = TestUser::generate();
    first.register(&user).await;

    // Act: the failures happen on one instance...
    for _ in 0..2 {
        first
            .login(wrong_password(&user))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: ...and the other refuses even the right password.
    let locked = retry_after(&second.login(right_password(&user)).await);
    wait(&first, locked);
    // A failure on the second instance counts for the first too: the lock doubles there.
    second
        .login(wrong_password(&user))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    assert_eq!(retry_after(&first.login(right_password(&user)).await), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_racing_on_two_instances_are_all_counted() {
    // Arrange
    let first = Arc::new(TestApp::spawn_with(|s| s.login_free_failures = 8).await);
    let second = Arc::new(
        first
            .another_instance_with(|s| s.login_free_failures = 8)
            .await,
    );
    let user = TestUser::generate();
    first.register(&user).await;

    // Act: eight failures at once, four on each instance.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let app = if i % 2 == 0 { &first } else { &second }.clone();
            let input = wrong_password(&user);
            tokio::spawn(async move { app.login(input).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: not one was lost, so the eighth locked the account.
    retry_after(&first.login(right_password(&user)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_no_account_has_is_answered_exactly_like_a_real_one() {
    // Arrange
    let app = app_with_free_failures(2).await;
    let real = TestUser::generate();
    app.register(&real).await;
    let unknown = TestUser::generate();

    // Act: the same run against both.
    let mut answers = Vec::new();
    for user in [&real, &unknown] {
        let mut run = Vec::new();
        for _ in 0..3 {
            let response = app.login(wrong_password(user)).await;
            let first = &response.body["errors"][0];
            run.push((
                first["message"].clone(),
                first["extensions"]["code"].clone(),
                first["extensions"]["retryAfter"].clone(),
            ));
        }
        answers.push(run);
    }

    // Assert: two ordinary failures, then a lock, in both cases.
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[1][2].1, json!("RATE_LIMITED"));
    assert_eq!(answers[1][2].2, json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_one_address_are_limited_across_accounts() {
    // Arrange: three failures a minute per address, and accounts that lock late. The
    // clock stands still, so the wait is the budget's alone, however slow the machine.
    let app = TestApp::spawn_with(|s| s.ip_failures_per_minute = 3).await;
    app.clock.stop();
    let user = TestUser::generate();
    app.register(&user).await;
    // Successful logins use none of the budget.
    for _ in 0..5 {
        app.login(right_password(&user)).await.assert_ok();
    }

    // Act: one failure on each of three accounts (none of which exists).
    for _ in 0..3 {
        app.login(wrong_password(&TestUser::generate()))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: the address must now wait, even with someone else's right password; the
    // budget refills at one failure every 20 s.
    let wait = retry_after(&app.login(right_password(&user)).await);
    assert!((19..=20).contains(&wait), "{wait}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_is_limited_per_address_conflicts_included() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.ip_failures_per_minute = 3).await;
    let user = TestUser::generate();

    // Act: a sign-up, a conflict (which may say so), another sign-up...
    app.register(&user).await;
    app.register_response(&user)
        .await
        .assert_error("CONFLICT", 409);
    app.register(&TestUser::generate()).await;

    // Assert: ...and the fourth attempt from the address waits.
    let response = app.register_response(&TestUser::generate()).await;
    assert!(retry_after(&response) <= 20);
    // Logging in is budgeted apart.
    app.login(right_password(&user)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_is_limited_per_address_on_failures_only() {
    // Arrange: three failures a minute per address.
    let app = TestApp::spawn_with(|s| s.ip_failures_per_minute = 3).await;
    let (_, login) = app.signed_in_user().await;
    let mut token = str_field(&login, "refreshToken").to_owned();
    // Many more successful refreshes than the budget: none of them counts.
    for _ in 0..20 {
        let response = app.refresh(&token).await;
        token = str_field(&response.assert_ok()["refresh"], "refreshToken").to_owned();
    }

    // Act: the budget spent on tokens that do not exist.
    for i in 0..3 {
        app.refresh(&format!("not-a-refresh-token-{i}"))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }

    // Assert: now even a valid token must wait...
    let wait = retry_after(&app.refresh(&token).await);
    assert!((19..=20).contains(&wait), "{wait}");
    // ...and was not used up by being refused: another instance (with budgets of its own)
    // still rotates it.
    app.another_instance()
        .await
        .refresh(&token)
        .await
        .assert_ok();
}

/// The 6-digit TOTP code (RFC 6238: HMAC-SHA1, 30 s steps) of `step` for a base32 secret.
fn totp_code(secret: &str, step: u64) -> String {
    let mut key = Vec::new();
    let (mut bits, mut held) = (0u64, 0);
    for c in secret.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {secret}"),
        };
        bits = (bits << 5) | u64::from(value);
        held += 5;
        if held >= 8 {
            held -= 8;
            key.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key);
    let mac = ring::hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let value = u32::from_be_bytes(mac[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_one_time_passwords_count_toward_the_lock_but_a_missing_one_does_not() {
    // Arrange: an account with TOTP on.
    let app = app_with_free_failures(2).await;
    let (user, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    let enrolled = app
        .gql_with_token(token, "mutation { enrollTotp { secret } }", json!({}))
        .await;
    let secret = str_field(&enrolled.assert_ok()["enrollTotp"], "secret").to_owned();
    let step = app.clock.now().timestamp().unsigned_abs() / 30;
    app.gql_with_token(
        token,
        "mutation($otp: String!) { confirmTotp(otp: $otp) }",
        json!({ "otp": totp_code(&secret, step) }),
    )
    .await
    .assert_ok();
    let near: Vec<String> = (step - 2..=step + 2)
        .map(|s| totp_code(&secret, s))
        .collect();
    let wrong = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|code| !near.contains(code))
        .unwrap();
    let with_otp = |otp: Option<&str>| json!({ "username": user.username, "password": user.password, "otp": otp });

    // Act + Assert: the right password without a code, again and again, counts for nothing...
    for _ in 0..3 {
        app.login(with_otp(None))
            .await
            .assert_error("OTP_REQUIRED", 401);
    }
    // ...wrong codes are failures...
    for _ in 0..2 {
        app.login(with_otp(Some(&wrong)))
            .await
            .assert_error("INVALID_OTP", 401);
    }
    // ...so now even the right password with a fresh right code waits.
    retry_after(
        &app.login(with_otp(Some(&totp_code(&secret, step + 1))))
            .await,
    );
}
