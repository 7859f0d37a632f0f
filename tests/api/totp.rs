//! Two-factor authentication (TOTP, RFC 6238) with recovery codes: enrol, confirm, log in
//! with a code (once each, one step of drift), recovery codes, turning it off.
//!
//! Codes are computed here from the secret the server hands out, with `ring`'s HMAC-SHA1
//! and a base32 decoder of our own: nothing is shared with the server's implementation.
//! Codes for other steps are those of `now ± 30 s`, `now` being the server's clock
//! (`app.clock`), which a test moves rather than waiting for a step to pass.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use sea_orm::{ConnectionTrait as _, Database};
use serde_json::{Value, json};

use latchkey_api::auth::totp::recovery_codes::RecoveryCode;

use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};

const ENROLL: &str = "mutation Enroll { enrollTotp { secret otpauthUrl } }";
const CONFIRM: &str = "mutation Confirm($otp: String!) { confirmTotp(otp: $otp) }";
const DISABLE: &str = "mutation Disable($password: String!, $otp: String!) { \
    disableTotp(password: $password, otp: $otp) }";
const ADD_AUTH_HEADER: &str =
    "mutation Add($name: String!) { addAuthHeader(name: $name) { token } }";

/// Seconds per TOTP time step.
const STEP: u64 = 30;
/// Logins racing with one code.
const RACERS: usize = 4;

/// RFC 4648 base32 (upper case, no padding), as authenticator apps read it.
fn base32_decode(text: &str) -> Vec<u8> {
    let mut bits: u64 = 0;
    let mut held = 0;
    let mut bytes = Vec::new();
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {text}"),
        };
        bits = (bits << 5) | u64::from(value);
        held += 5;
        if held >= 8 {
            held -= 8;
            bytes.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    bytes
}

/// The 6-digit HMAC-SHA1 code of a time step (RFC 4226 dynamic truncation).
pub(crate) fn code_at(secret: &str, step: u64) -> String {
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        &base32_decode(secret),
    );
    let tag = ring::hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let value = u32::from_be_bytes(mac[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// The server's time since the Unix epoch.
fn unix_now(app: &TestApp) -> Duration {
    Duration::from_millis(app.clock.now().timestamp_millis().try_into().unwrap())
}

/// The server's current time step.
pub(crate) fn current_step(app: &TestApp) -> u64 {
    unix_now(app).as_secs() / STEP
}

/// The current time step, after moving the server's clock to a fresh one if fewer than
/// `margin` seconds of this one are left: for tests that need the server to stay in the
/// same step from start to end.
pub(crate) fn step_with_room(app: &TestApp, margin: u64) -> u64 {
    let now = unix_now(app);
    let left = STEP - now.as_secs() % STEP;
    if left < margin {
        let into_step = Duration::from_millis(now.as_millis() as u64 % (STEP * 1000));
        let to_next = Duration::from_secs(STEP) - into_step;
        app.clock.advance(to_next + Duration::from_millis(200));
    }
    current_step(app)
}

/// A 6-digit code that is none of the codes of the steps around `step`.
pub(crate) fn wrong_code(secret: &str, step: u64) -> String {
    let near: Vec<String> = (step - 2..=step + 2).map(|s| code_at(secret, s)).collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7_919 + 123_457) % 1_000_000))
        .find(|candidate| !near.contains(candidate))
        .unwrap()
}

/// A signed-in user with TOTP on: its secret, recovery codes, and the step whose code
/// confirmed the enrolment (so that step is used; the next one is still free).
pub(crate) struct TotpUser {
    pub user: TestUser,
    pub access_token: String,
    pub secret: String,
    pub recovery_codes: Vec<String>,
    pub confirmed_step: u64,
}

async fn enroll(app: &TestApp, access_token: &str) -> GqlResponse {
    app.gql_with_token(access_token, ENROLL, json!({})).await
}

/// Enrols; returns `(secret, otpauthUrl)`.
pub(crate) async fn new_enrollment(app: &TestApp, access_token: &str) -> (String, String) {
    let response = enroll(app, access_token).await;
    let enrollment = &response.assert_ok()["enrollTotp"];
    (
        str_field(enrollment, "secret").to_owned(),
        str_field(enrollment, "otpauthUrl").to_owned(),
    )
}

pub(crate) async fn confirm(app: &TestApp, access_token: &str, otp: &str) -> GqlResponse {
    app.gql_with_token(access_token, CONFIRM, json!({ "otp": otp }))
        .await
}

async fn disable(app: &TestApp, access_token: &str, password: &str, otp: &str) -> GqlResponse {
    app.gql_with_token(
        access_token,
        DISABLE,
        json!({ "password": password, "otp": otp }),
    )
    .await
}

pub(crate) async fn with_totp_on(app: &TestApp) -> TotpUser {
    let (user, login) = app.signed_in_user().await;
    let access_token = str_field(&login, "accessToken").to_owned();
    let (secret, _) = new_enrollment(app, &access_token).await;
    let confirmed_step = current_step(app);
    let response = confirm(app, &access_token, &code_at(&secret, confirmed_step)).await;
    let recovery_codes = response.assert_ok()["confirmTotp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    TotpUser {
        user,
        access_token,
        secret,
        recovery_codes,
        confirmed_step,
    }
}

pub(crate) async fn login_with_otp(
    app: &TestApp,
    user: &TestUser,
    otp: Option<&str>,
) -> GqlResponse {
    app.login(json!({ "username": user.username, "password": user.password, "otp": otp }))
        .await
}

async fn totp_enabled(app: &TestApp, access_token: &str) -> Value {
    app.me(Some(access_token)).await.assert_ok()["me"]["totpEnabled"].clone()
}

/// Makes the server forget which step was used last, as if the enrolment had been
/// confirmed minutes ago, so a test can use the previous step's code without waiting
/// for the clock (each test has a database of its own).
async fn forget_last_used_step(app: &TestApp) {
    let db = Database::connect(app.database_url()).await.unwrap();
    db.execute_unprepared("UPDATE totp SET last_used_step = NULL")
        .await
        .unwrap();
    db.close().await.unwrap();
}

/// An OTP refusal: the code, 401, no token in the body or headers, no cookie.
#[track_caller]
fn assert_refused(response: &GqlResponse, code: &str) {
    response.assert_error(code, 401);
    assert!(
        response.headers.get("set-cookie").is_none(),
        "a refused login sets no cookie: {response:#?}"
    );
}

#[test]
fn the_test_code_generator_matches_rfc_6238() {
    // Appendix B's SHA-1 key is ASCII "12345678901234567890"; 6 digits are the last 6.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(base32_decode(secret), b"12345678901234567890");
    assert_eq!(code_at(secret, 59 / STEP), "287082");
    assert_eq!(code_at(secret, 1_111_111_109 / STEP), "081804");
    assert_eq!(code_at(secret, 2_000_000_000 / STEP), "279037");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_totp_returns_a_base32_secret_and_an_otpauth_url_for_authenticator_apps() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;
    let access_token = str_field(&login, "accessToken");

    // Act
    let (secret, url) = new_enrollment(&app, access_token).await;

    // Assert: 160 bits of base32, and the URL apps scan, naming issuer and account.
    assert_eq!(base32_decode(&secret).len(), 20, "{secret}");
    assert_eq!(
        url,
        format!(
            "otpauth://totp/Latchkey:{}?secret={secret}&issuer=Latchkey\
             &algorithm=SHA1&digits=6&period=30",
            user.username
        )
    );
    // Pending only: nothing changes until it is confirmed.
    assert_eq!(totp_enabled(&app, access_token).await, false);
    login_with_otp(&app, &user, None).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolling_again_before_confirming_replaces_the_secret() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let access_token = str_field(&login, "accessToken");
    let (first, _) = new_enrollment(&app, access_token).await;

    // Act
    let (second, _) = new_enrollment(&app, access_token).await;

    // Assert: the first secret's code confirms nothing; the second's does.
    assert_ne!(first, second);
    let step = current_step(&app);
    let stale = confirm(&app, access_token, &code_at(&first, step)).await;
    stale.assert_error("INVALID_OTP", 401);
    confirm(&app, access_token, &code_at(&second, step))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_totp_turns_totp_on_and_returns_ten_distinct_recovery_codes() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let enrolled = with_totp_on(&app).await;

    // Assert
    let codes = &enrolled.recovery_codes;
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 10, "{codes:?}");
    for code in codes {
        // Four groups of four base32 characters: 80 bits, easy to type.
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 4, "{code}");
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric())),
            "{code}"
        );
    }
    assert_eq!(totp_enabled(&app, &enrolled.access_token).await, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_totp_with_a_wrong_code_is_invalid_otp_and_leaves_totp_off() {
    // Arrange
    let app = TestApp::spawn().await;
    let (user, login) = app.signed_in_user().await;
    let access_token = str_field(&login, "accessToken");
    let (secret, _) = new_enrollment(&app, access_token).await;

    // Act
    let wrong = confirm(&app, access_token, &wrong_code(&secret, current_step(&app))).await;
    let not_a_code = confirm(&app, access_token, "abcdef").await;

    // Assert
    wrong.assert_error("INVALID_OTP", 401);
    not_a_code.assert_error("INVALID_OTP", 401);
    assert_eq!(totp_enabled(&app, access_token).await, false);
    login_with_otp(&app, &user, None).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_totp_without_a_pending_enrolment_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let never_enrolled = str_field(&login, "accessToken");
    let already_on = with_totp_on(&app).await;

    // Act
    let nothing_pending = confirm(&app, never_enrolled, "123456").await;
    let confirmed_again = confirm(
        &app,
        &already_on.access_token,
        &code_at(&already_on.secret, already_on.confirmed_step + 1),
    )
    .await;

    // Assert
    nothing_pending.assert_error("BAD_USER_INPUT", 400);
    assert!(
        nothing_pending.error_message().contains("enrollTotp"),
        "{}",
        nothing_pending.error_message()
    );
    confirmed_again.assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_totp_while_totp_is_on_is_refused_and_keeps_the_secret() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;

    // Act
    let response = enroll(&app, &enrolled.access_token).await;

    // Assert: refused, saying how to proceed; the enrolled secret still logs in.
    response.assert_error("BAD_USER_INPUT", 400);
    assert!(
        response.error_message().contains("disableTotp"),
        "{}",
        response.error_message()
    );
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    login_with_otp(&app, &enrolled.user, Some(&code))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_token_cannot_enrol_totp() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let added = app
        .gql_with_token(
            str_field(&login, "accessToken"),
            ADD_AUTH_HEADER,
            json!({ "name": "script" }),
        )
        .await;
    let personal_token = str_field(&added.assert_ok()["addAuthHeader"], "token").to_owned();

    // Act
    let response = enroll(&app, &personal_token).await;

    // Assert
    response.assert_error("FORBIDDEN", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_totp_on_needs_the_right_code_after_the_right_password() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let user = &enrolled.user;
    let right = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    let wrong = wrong_code(&enrolled.secret, enrolled.confirmed_step);

    // Act
    let without = login_with_otp(&app, user, None).await;
    let blank = login_with_otp(&app, user, Some("  ")).await;
    let with_wrong = login_with_otp(&app, user, Some(&wrong)).await;
    let wrong_password = app
        .login(json!({ "username": user.username, "password": "Wrong-password-1", "otp": right }))
        .await;
    let with_right = login_with_otp(&app, user, Some(&right)).await;

    // Assert: the password is judged first, so only its holder learns that TOTP is on.
    assert_refused(&without, "OTP_REQUIRED");
    assert_refused(&blank, "OTP_REQUIRED");
    assert_refused(&with_wrong, "INVALID_OTP");
    assert_refused(&wrong_password, "UNAUTHENTICATED");
    let payload = &with_right.assert_ok()["login"];
    assert!(!str_field(payload, "accessToken").is_empty());
    assert_eq!(
        totp_enabled(&app, str_field(payload, "accessToken")).await,
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_failures_carry_no_token_and_set_no_cookie_in_any_mode() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let user = &enrolled.user;
    let wrong = wrong_code(&enrolled.secret, enrolled.confirmed_step);

    for mode in ["JSON", "COOKIE", "SESSION"] {
        // Act
        let without = app
            .login(json!({ "username": user.username, "password": user.password, "mode": mode }))
            .await;
        let with_wrong = app
            .login(json!({
                "username": user.username, "password": user.password, "otp": wrong, "mode": mode,
            }))
            .await;

        // Assert
        assert_refused(&without, "OTP_REQUIRED");
        assert_refused(&with_wrong, "INVALID_OTP");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_accepted_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let confirming = code_at(&enrolled.secret, enrolled.confirmed_step);
    let next = code_at(&enrolled.secret, enrolled.confirmed_step + 1);

    // Act
    let confirming_replayed = login_with_otp(&app, &enrolled.user, Some(&confirming)).await;
    let first = login_with_otp(&app, &enrolled.user, Some(&next)).await;
    let replayed = login_with_otp(&app, &enrolled.user, Some(&next)).await;

    // Assert: the code that confirmed the enrolment counts as used too.
    assert_refused(&confirming_replayed, "INVALID_OTP");
    first.assert_ok();
    assert_refused(&replayed, "INVALID_OTP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_steps_code_is_accepted_once_but_not_after_a_later_step_was_used() {
    // Arrange: the server must stay in one step throughout, or the previous step's code
    // would be two steps old.
    let app = TestApp::spawn().await;
    step_with_room(&app, 15);
    let enrolled = with_totp_on(&app).await;
    forget_last_used_step(&app).await;
    let now = enrolled.confirmed_step;
    let code = |step| code_at(&enrolled.secret, step);
    let user = &enrolled.user;

    // Act
    let previous = login_with_otp(&app, user, Some(&code(now - 1))).await;
    let previous_again = login_with_otp(&app, user, Some(&code(now - 1))).await;
    let next = login_with_otp(&app, user, Some(&code(now + 1))).await;
    let current_after_next = login_with_otp(&app, user, Some(&code(now))).await;
    let two_back = login_with_otp(&app, user, Some(&code(now - 2))).await;

    // Assert: one step of drift either way, and never a step at or before the last used.
    previous.assert_ok();
    assert_refused(&previous_again, "INVALID_OTP");
    next.assert_ok();
    assert_refused(&current_after_next, "INVALID_OTP");
    assert_refused(&two_back, "INVALID_OTP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_logins_with_one_fresh_code_admit_exactly_one() {
    // Arrange
    let app = Arc::new(TestApp::spawn().await);
    let enrolled = with_totp_on(&app).await;
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);

    // Act: four logins with the same code at once (three losers stay under the five
    // failures login throttling forgives, so each loser's answer is about the code).
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (app, user, code) = (app.clone(), enrolled.user.clone(), code.clone());
            tokio::spawn(async move { login_with_otp(&app, &user, Some(&code)).await })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.unwrap());
    }

    // Assert: the database, not luck, lets exactly one through.
    let admitted = responses
        .iter()
        .filter(|r| r.body["data"]["login"].is_object())
        .count();
    assert_eq!(
        admitted,
        1,
        "{:#?}",
        responses.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for refused in responses
        .iter()
        .filter(|r| !r.body["data"]["login"].is_object())
    {
        assert_refused(refused, "INVALID_OTP");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writes_of_one_step_or_one_recovery_code_admit_exactly_one() {
    // Arrange: logins queue for the password hash, so over HTTP the racers rarely
    // overlap; here the conditional writes themselves race, all at once.
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let login = login_with_otp(&app, &enrolled.user, Some(&enrolled.recovery_codes[9])).await;
    let user_id: uuid::Uuid = str_field(&login.assert_ok()["login"]["user"], "id")
        .parse()
        .unwrap();
    let store = latchkey_api::store::Store::connect(app.database_url())
        .await
        .unwrap();
    let step = i64::try_from(enrolled.confirmed_step + 1).unwrap();
    let code = RecoveryCode::parse(&enrolled.recovery_codes[0]).unwrap();
    let spent_at = chrono::DateTime::from_timestamp(unix_now(&app).as_secs() as i64, 0).unwrap();

    // Act
    let steps: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.totp.record_step(user_id, step).await.unwrap() })
        })
        .collect();
    let spends: Vec<_> = (0..16)
        .map(|_| {
            let (store, hash) = (store.clone(), code.hash().as_str().to_owned());
            tokio::spawn(async move {
                store
                    .totp
                    .spend_recovery_code(user_id, &hash, spent_at)
                    .await
                    .unwrap()
            })
        })
        .collect();

    // Assert
    let mut recorded = 0;
    for task in steps {
        recorded += usize::from(task.await.unwrap());
    }
    let mut spent = 0;
    for task in spends {
        spent += usize::from(task.await.unwrap());
    }
    assert_eq!((recorded, spent), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_logs_in_once_in_place_of_a_code() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let (first, second) = (&enrolled.recovery_codes[0], &enrolled.recovery_codes[1]);

    // Act
    let used = login_with_otp(&app, &enrolled.user, Some(first)).await;
    let reused = login_with_otp(&app, &enrolled.user, Some(first)).await;
    // As a person might type it: upper case, no hyphens.
    let typed = second.replace('-', "").to_uppercase();
    let another = login_with_otp(&app, &enrolled.user, Some(&typed)).await;

    // Assert
    used.assert_ok();
    assert_refused(&reused, "INVALID_OTP");
    another.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_logins_with_one_recovery_code_admit_exactly_one() {
    // Arrange
    let app = Arc::new(TestApp::spawn().await);
    let enrolled = with_totp_on(&app).await;
    let code = enrolled.recovery_codes[0].clone();

    // Act
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (app, user, code) = (app.clone(), enrolled.user.clone(), code.clone());
            tokio::spawn(async move { login_with_otp(&app, &user, Some(&code)).await })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        let response = task.await.unwrap();
        if response.body["data"]["login"].is_object() {
            admitted += 1;
        } else {
            assert_refused(&response, "INVALID_OTP");
        }
    }

    // Assert
    assert_eq!(admitted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_totp_needs_the_password_and_a_code_then_turns_it_off() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let (user, token) = (&enrolled.user, enrolled.access_token.as_str());
    let right = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    let wrong = wrong_code(&enrolled.secret, enrolled.confirmed_step);

    // Act
    let wrong_password = disable(&app, token, "Wrong-password-1", &right).await;
    let with_wrong_code = disable(&app, token, &user.password, &wrong).await;
    let disabled = disable(&app, token, &user.password, &right).await;

    // Assert: the wrong password is told as at login; nothing was spent by the refusals.
    wrong_password.assert_error("UNAUTHENTICATED", 401);
    assert_eq!(
        wrong_password.error_message(),
        "invalid username, email or password"
    );
    with_wrong_code.assert_error("INVALID_OTP", 401);
    assert_eq!(disabled.assert_ok()["disableTotp"], true);
    assert_eq!(totp_enabled(&app, token).await, false);
    login_with_otp(&app, user, None).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_totp_with_a_recovery_code_deletes_the_recovery_codes() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let (user, token) = (&enrolled.user, enrolled.access_token.as_str());

    // Act
    let disabled = disable(&app, token, &user.password, &enrolled.recovery_codes[0]).await;
    let again = disable(&app, token, &user.password, &enrolled.recovery_codes[1]).await;

    // Assert: off; a second call finds nothing to turn off.
    assert_eq!(disabled.assert_ok()["disableTotp"], true);
    assert_eq!(again.assert_ok()["disableTotp"], false);
    // Turned on afresh, the old recovery codes are worth nothing.
    let (secret, _) = new_enrollment(&app, token).await;
    let step = current_step(&app);
    let codes = confirm(&app, token, &code_at(&secret, step)).await;
    codes.assert_ok();
    let stale = login_with_otp(&app, user, Some(&enrolled.recovery_codes[2])).await;
    assert_refused(&stale, "INVALID_OTP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otp_sent_while_totp_is_off_is_ignored() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    app.register(&user).await;

    // Act
    let with_digits = login_with_otp(&app, &user, Some("123456")).await;
    let with_nonsense = login_with_otp(&app, &user, Some("not a code")).await;

    // Assert
    with_digits.assert_ok();
    with_nonsense.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_is_checked_before_password_expiry() {
    // Arrange: passwords expire after three seconds.
    let app = TestApp::spawn_with(|s| s.password_max_age = Some(Duration::from_secs(3))).await;
    let enrolled = with_totp_on(&app).await;
    app.clock.advance(Duration::from_millis(3500));
    let user = &enrolled.user;
    let wrong = wrong_code(&enrolled.secret, enrolled.confirmed_step);
    let right = code_at(&enrolled.secret, enrolled.confirmed_step + 1);

    // Act
    let without = login_with_otp(&app, user, None).await;
    let with_wrong = login_with_otp(&app, user, Some(&wrong)).await;
    let with_right = login_with_otp(&app, user, Some(&right)).await;

    // Assert: only a caller with both factors learns that the password has expired.
    assert_refused(&without, "OTP_REQUIRED");
    assert_refused(&with_wrong, "INVALID_OTP");
    with_right.assert_error("PASSWORD_EXPIRED", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_enabled_shows_in_me_and_in_user_of_login() {
    // Arrange
    let app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);

    // Act
    let login = app
        .gql(
            "mutation($input: LoginInput!) { login(input: $input) { user { totpEnabled } } }",
            json!({ "input": {
                "username": enrolled.user.username, "password": enrolled.user.password, "otp": code,
            } }),
        )
        .await;
    let me = app.me(Some(&enrolled.access_token)).await;

    // Assert
    assert_eq!(login.assert_ok()["login"]["user"]["totpEnabled"], true);
    assert_eq!(me.assert_ok()["me"]["totpEnabled"], true);
}
