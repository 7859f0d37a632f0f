//! Security notices to the verified address, and pruning of the outbox.

use std::time::Duration;

use serde_json::json;

use crate::email_verification::VERIFY;
use crate::helpers::{TestApp, TestUser, str_field};
use crate::smtp_sink::{SmtpSink, outbox_rows};

const CHANGE: &str =
    "mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }";
const ADD_TOKEN: &str = "mutation { addAuthHeader(name: \"script\") { token } }";

/// A registered, verified, logged-in user; its access token.
async fn verified_user(app: &TestApp, sink: &SmtpSink) -> (TestUser, String) {
    let (user, login) = app.signed_in_user().await;
    let token = sink.wait_for(&user.email, 1).await[0].link_token();
    app.gql(VERIFY, json!({ "token": token })).await.assert_ok();
    (user, str_field(&login, "accessToken").to_owned())
}

/// Waits for a mail to `user` whose subject contains `subject`.
async fn wait_for_subject(
    sink: &SmtpSink,
    user: &TestUser,
    subject: &str,
) -> crate::smtp_sink::Received {
    for _ in 0..400 {
        if let Some(mail) = sink
            .to(&user.email)
            .into_iter()
            .find(|m| m.subject().contains(subject))
        {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail with subject {subject:?} for {}", user.email);
}

#[tokio::test]
async fn password_changes_and_new_personal_tokens_are_told_to_the_verified_address() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| SmtpSink::configure(port, s)).await;
    let (user, access) = verified_user(&app, &sink).await;

    app.gql_with_token(&access, ADD_TOKEN, json!({}))
        .await
        .assert_ok();
    let notice = wait_for_subject(&sink, &user, "A new personal token").await;
    assert!(
        notice.text().contains("If this was not you"),
        "{}",
        notice.text()
    );

    app.gql_with_token(
        &access,
        CHANGE,
        json!({ "input": { "currentPassword": user.password, "newPassword": "Changed-passphrase-9" } }),
    )
    .await
    .assert_ok();
    let notice = wait_for_subject(&sink, &user, "password was changed").await;
    assert!(
        notice.html().contains("reset your password now"),
        "{}",
        notice.html()
    );
}

#[tokio::test]
async fn an_unverified_address_and_a_notice_turned_off_get_no_notice() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        s.mail.notices.personal_token_created = false;
    })
    .await;
    // Unverified: the password change is not told to an address nobody proved.
    let (user, login) = app.signed_in_user().await;
    sink.wait_for(&user.email, 1).await;
    app.gql_with_token(
        str_field(&login, "accessToken"),
        CHANGE,
        json!({ "input": { "currentPassword": user.password, "newPassword": "Changed-passphrase-9" } }),
    )
    .await
    .assert_ok();
    // Verified, but this kind is off.
    let (verified, access) = verified_user(&app, &sink).await;
    app.gql_with_token(&access, ADD_TOKEN, json!({}))
        .await
        .assert_ok();

    let rows = outbox_rows(&app).await;
    let kinds: Vec<&str> = rows.iter().map(|row| row.kind.as_str()).collect();
    assert_eq!(kinds, ["verify_email", "verify_email"], "{rows:#?}");
    assert_eq!(sink.to(&verified.email).len(), 1);
}

#[tokio::test]
async fn finished_mail_is_pruned_after_the_retention_period() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| SmtpSink::configure(port, s)).await;
    let user = TestUser::generate();
    app.register(&user).await;
    sink.wait_for(&user.email, 1).await;
    for _ in 0..400 {
        if outbox_rows(&app)
            .await
            .iter()
            .all(|row| row.status == "sent")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Past the retention (7 days) and the hourly pruning round.
    app.clock.advance(Duration::from_secs(8 * 24 * 3600));
    for _ in 0..400 {
        if outbox_rows(&app).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("not pruned: {:#?}", outbox_rows(&app).await);
}

#[tokio::test]
async fn turning_totp_on_and_off_is_told_to_the_verified_address() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| SmtpSink::configure(port, s)).await;
    let (user, access) = verified_user(&app, &sink).await;

    let enrollment = app
        .gql_with_token(&access, "mutation { enrollTotp { secret } }", json!({}))
        .await;
    let secret = enrollment.assert_ok()["enrollTotp"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = crate::totp::code_at(&secret, crate::totp::step_with_room(&app, 5));
    let confirmed = app
        .gql_with_token(
            &access,
            "mutation Confirm($otp: String!) { confirmTotp(otp: $otp) }",
            json!({ "otp": code }),
        )
        .await;
    let recovery = confirmed.assert_ok()["confirmTotp"][0]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_subject(&sink, &user, "Two-factor authentication is on").await;

    app.gql_with_token(
        &access,
        "mutation Disable($password: String!, $otp: String!) { disableTotp(password: $password, otp: $otp) }",
        json!({ "password": user.password, "otp": recovery }),
    )
    .await
    .assert_ok();
    wait_for_subject(&sink, &user, "Two-factor authentication is off").await;
}

#[tokio::test]
async fn a_login_from_a_browser_without_the_device_cookie_is_told_to_the_verified_address() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| SmtpSink::configure(port, s)).await;
    let (user, _) = verified_user(&app, &sink).await;
    // The same browser (its cookie jar holds the device cookie of the first login).
    app.login_username(&user).await;
    // Another browser.
    let elsewhere = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = elsewhere
        .post(app.url("/graphql"))
        .json(&json!({
            "query": crate::helpers::login_document(),
            "variables": { "input": { "username": user.username, "password": user.password } },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let notice = wait_for_subject(&sink, &user, "A new login").await;
    assert!(
        notice.text().contains("If this was not you"),
        "{}",
        notice.text()
    );
    let rows = outbox_rows(&app).await;
    let new_device = rows.iter().filter(|row| row.kind == "new_device").count();
    assert_eq!(
        new_device, 1,
        "the known browser's login sent none: {rows:#?}"
    );
}
