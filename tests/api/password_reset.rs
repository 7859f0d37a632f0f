//! A forgotten password, over real SMTP: `requestPasswordReset` (one answer for every
//! address), the link in the received mail, `resetPassword` (once, under the rules, with
//! TOTP, ending every session and personal token, clearing the lock).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};
use crate::smtp_sink::{Received, SmtpSink, outbox_rows};

pub const REQUEST_RESET: &str =
    "mutation Request($email: String!) { requestPasswordReset(email: $email) }";
pub const RESET: &str = "mutation Reset($token: String!, $newPassword: String!, $otp: String) { \
    resetPassword(token: $token, newPassword: $newPassword, otp: $otp) }";
const ADD_AUTH_HEADER: &str =
    "mutation Add($name: String!) { addAuthHeader(name: $name) { token } }";

async fn app_with_sink(
    adjust: impl Fn(&mut latchkey_api::config::Settings) + Send + Sync + 'static,
) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        adjust(s);
    })
    .await;
    (app, sink)
}

pub async fn request_reset(app: &TestApp, email: &str) -> GqlResponse {
    app.gql(REQUEST_RESET, json!({ "email": email })).await
}

async fn reset(app: &TestApp, token: &str, new_password: &str, otp: Option<&str>) -> GqlResponse {
    app.gql(
        RESET,
        json!({ "token": token, "newPassword": new_password, "otp": otp }),
    )
    .await
}

/// The reset mails `user` received, waiting for `count` of them.
async fn reset_mails(sink: &SmtpSink, user: &TestUser, count: usize) -> Vec<Received> {
    for _ in 0..400 {
        let got: Vec<Received> = sink
            .to(&user.email)
            .into_iter()
            .filter(|m| m.subject().contains("Reset your"))
            .collect();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {count} reset mail(s) for {}", user.email);
}

#[tokio::test]
async fn the_reset_flow_works_end_to_end_from_the_received_mail() {
    let (app, sink) = app_with_sink(|s| {
        s.mail.links.public_url = "https://app.example.com".into();
    })
    .await;
    let (user, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken").to_owned();
    let refresh = str_field(&login, "refreshToken").to_owned();
    let personal = app
        .gql_with_token(&access, ADD_AUTH_HEADER, json!({ "name": "ci" }))
        .await
        .assert_ok()["addAuthHeader"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let answer = request_reset(&app, &user.email.to_uppercase()).await;
    assert_eq!(answer.assert_ok()["requestPasswordReset"], json!(true));
    let mail = reset_mails(&sink, &user, 1).await.remove(0);
    assert!(
        mail.link()
            .starts_with("https://app.example.com/reset-password#token="),
        "{}",
        mail.link()
    );
    let token = mail.link_token();
    assert_eq!(token.len(), 43, "256 bits in base64url");
    assert!(mail.text().contains("for 30 minutes"), "{}", mail.text());
    assert!(mail.raw.contains("Message-ID: <"), "{}", mail.raw);

    let new_password = "Brand-new-passphrase-42";
    reset(&app, &token, new_password, None).await.assert_ok();

    app.refresh(&refresh)
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(&access))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.me(Some(&personal))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.login(json!({ "username": user.username, "password": user.password }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    let fresh = TestUser {
        password: new_password.into(),
        ..user.clone()
    };
    app.login_username(&fresh).await;
    reset(&app, &token, "Another-passphrase-43", None)
        .await
        .assert_error("UNAUTHENTICATED", 401);

    // Following the link proved the address, so the notice goes to it.
    let mut notice = None;
    for _ in 0..400 {
        notice = sink
            .to(&user.email)
            .into_iter()
            .find(|m| m.subject().contains("password was changed"));
        if notice.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notice = notice.expect("the password-changed notice");
    assert!(
        notice.text().contains("If this was not you"),
        "{}",
        notice.text()
    );
}

#[tokio::test]
async fn get_and_head_of_the_link_spend_nothing() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let user = TestUser::generate();
    app.register(&user).await;
    request_reset(&app, &user.email).await.assert_ok();
    let token = reset_mails(&sink, &user, 1).await[0].link_token();
    // A mail scanner fetching the link as it would be on this server: the fragment never
    // leaves the client, and the server has nothing at GET that spends a token.
    let url = app.url(&format!("/reset-password#token={token}"));
    for _ in 0..100 {
        app.client.get(&url).send().await.unwrap();
        app.client.head(&url).send().await.unwrap();
    }
    let graphql_get = app.url(&format!(
        "/graphql?query={}",
        "mutation%7BresetPassword(token%3A%22x%22%2CnewPassword%3A%22y%22)%7D"
    ));
    for _ in 0..100 {
        app.client.get(&graphql_get).send().await.unwrap();
        app.client.head(&graphql_get).send().await.unwrap();
    }
    reset(&app, &token, "Scanner-proof-pass-1", None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn sixteen_parallel_resets_with_one_token_admit_exactly_one() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let user = TestUser::generate();
    app.register(&user).await;
    request_reset(&app, &user.email).await.assert_ok();
    let token = reset_mails(&sink, &user, 1).await[0].link_token();
    let app = Arc::new(app);
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let app = app.clone();
            let token = token.clone();
            tokio::spawn(
                async move { reset(&app, &token, &format!("Racing-password-{i}"), None).await },
            )
        })
        .collect();
    let mut winners = Vec::new();
    for (i, racer) in racers.into_iter().enumerate() {
        let answer = racer.await.unwrap();
        if answer.body["data"]["resetPassword"] == json!(true) {
            winners.push(i);
        } else {
            answer.assert_error("UNAUTHENTICATED", 401);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let winner = TestUser {
        password: format!("Racing-password-{}", winners[0]),
        ..user
    };
    app.login_username(&winner).await;
}

#[tokio::test]
async fn a_newer_request_voids_the_older_link_and_links_expire() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let user = TestUser::generate();
    app.register(&user).await;
    request_reset(&app, &user.email).await.assert_ok();
    let first = reset_mails(&sink, &user, 1).await[0].link_token();
    request_reset(&app, &user.email).await.assert_ok();
    let second = reset_mails(&sink, &user, 2).await[1].link_token();
    reset(&app, &first, "Older-link-password-1", None)
        .await
        .assert_error("UNAUTHENTICATED", 401);

    app.clock.advance(Duration::from_secs(31 * 60));
    reset(&app, &second, "Expired-link-password-1", None)
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn the_new_password_follows_the_rules_and_a_refusal_keeps_the_link() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let user = TestUser::generate();
    app.register(&user).await;
    request_reset(&app, &user.email).await.assert_ok();
    let token = reset_mails(&sink, &user, 1).await[0].link_token();
    for weak in ["short", user.username.as_str(), "password123"] {
        reset(&app, &token, weak, None)
            .await
            .assert_error("BAD_USER_INPUT", 400);
    }
    reset(&app, "not-a-token", "Fine-password-99", None)
        .await
        .assert_error("UNAUTHENTICATED", 401);
    reset(&app, &token, "Fine-password-99", None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn with_totp_on_the_reset_needs_a_code_and_keeps_the_link_until_given() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let totp = crate::totp::with_totp_on(&app).await;
    request_reset(&app, &totp.user.email).await.assert_ok();
    let token = reset_mails(&sink, &totp.user, 1).await[0].link_token();
    reset(&app, &token, "Second-factor-pass-1", None)
        .await
        .assert_error("OTP_REQUIRED", 401);
    reset(&app, &token, "Second-factor-pass-1", Some("000000"))
        .await
        .assert_error("INVALID_OTP", 401);
    let code = &totp.recovery_codes[0];
    reset(&app, &token, "Second-factor-pass-1", Some(code))
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_reset_clears_the_account_lock() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let user = TestUser::generate();
    app.register(&user).await;
    for _ in 0..8 {
        app.login(json!({ "username": user.username, "password": "Wrong-password-1" }))
            .await;
    }
    let locked = app
        .login(json!({ "username": user.username, "password": user.password }))
        .await;
    locked.assert_error("RATE_LIMITED", 429);

    request_reset(&app, &user.email).await.assert_ok();
    let token = reset_mails(&sink, &user, 1).await[0].link_token();
    let new_password = "Unlocked-password-7";
    reset(&app, &token, new_password, None).await.assert_ok();
    app.login_username(&TestUser {
        password: new_password.into(),
        ..user
    })
    .await;
}

#[tokio::test]
async fn over_the_hourly_limit_the_answer_is_the_same_and_nothing_is_sent() {
    let (app, sink) = app_with_sink(|_| {}).await;
    let user_with_mail = TestUser::generate();
    app.register(&user_with_mail).await;
    sink.wait_for(&user_with_mail.email, 1).await; // the verification mail
    let mut bodies = Vec::new();
    for _ in 0..7 {
        bodies.push(request_reset(&app, &user_with_mail.email).await.text);
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
    reset_mails(&sink, &user_with_mail, 4).await;
    // The requests over the limit left no row at all: nothing is queued to arrive later.
    let rows = outbox_rows(&app).await;
    let to_user: Vec<_> = rows
        .iter()
        .filter(|row| row.recipient == user_with_mail.email)
        .collect();
    assert_eq!(
        to_user.len(),
        5,
        "5 per hour, the verification mail one of them: {rows:#?}"
    );

    app.clock.advance(Duration::from_secs(61 * 60));
    request_reset(&app, &user_with_mail.email).await.assert_ok();
    reset_mails(&sink, &user_with_mail, 5).await;
}

/// Median of `samples` in microseconds.
fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn known_and_unknown_addresses_get_identical_answers_in_the_same_time() {
    let (app, _sink) = app_with_sink(|s| {
        s.mail.per_address_per_hour = 10_000;
        s.mail.per_client_per_hour = 10_000;
    })
    .await;
    let user = TestUser::generate();
    app.register(&user).await;
    let unknown = format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple());

    // Warm up connections and statement caches alike for both.
    for _ in 0..20 {
        request_reset(&app, &user.email).await.assert_ok();
        request_reset(&app, &unknown).await.assert_ok();
    }
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    let mut bodies = std::collections::HashSet::new();
    for i in 0..400 {
        let address = if i % 2 == 0 { &user.email } else { &unknown };
        let started = Instant::now();
        let answer = request_reset(&app, address).await;
        let took = started.elapsed().as_micros();
        bodies.insert(answer.text.clone());
        if i % 2 == 0 {
            known_times.push(took);
        } else {
            unknown_times.push(took);
        }
    }
    assert_eq!(bodies.len(), 1, "byte-identical bodies: {bodies:?}");
    let (known, unknown) = (median(known_times), median(unknown_times));
    println!(
        "requestPasswordReset medians over 200 calls each: known {known} us, unknown {unknown} us"
    );
    assert!(
        known.abs_diff(unknown) < 2_000,
        "medians differ by 2 ms or more: known {known} us, unknown {unknown} us"
    );
}

#[tokio::test]
async fn one_client_address_may_cause_only_so_many_mails_an_hour() {
    let (app, sink) = app_with_sink(|s| s.mail.per_client_per_hour = 3).await;
    let user = TestUser::generate();
    app.register(&user).await; // the verification mail: one of the three
    let others: Vec<String> = (0..4)
        .map(|_| format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple()))
        .collect();
    request_reset(&app, &user.email).await.assert_ok();
    for other in &others {
        request_reset(&app, other).await.assert_ok();
    }
    // Over the limit: the same answer, and nothing written or sent.
    let answer = request_reset(&app, &user.email).await;
    assert_eq!(answer.assert_ok()["requestPasswordReset"], json!(true));
    reset_mails(&sink, &user, 1).await;
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[2].recipient, others[0], "{rows:#?}");
}
