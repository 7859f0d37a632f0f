//! Changing an account's address, over real SMTP: `changeEmail` (recent authentication,
//! a link to the new address, a notice to the old, one answer whether or not the address
//! is taken) and `confirmEmailChange` (once, CONFLICT when the address was taken
//! meanwhile).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::email_verification::VERIFY;
use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};
use crate::smtp_sink::{Received, SmtpSink, outbox_rows};

const CHANGE_EMAIL: &str = "mutation Change($newEmail: String!, $password: String, $otp: String) { \
    changeEmail(newEmail: $newEmail, password: $password, otp: $otp) }";
const CONFIRM: &str = "mutation Confirm($token: String!) { confirmEmailChange(token: $token) }";
const ME: &str = "query { me { email emailVerified } }";
const CHANGE_PASSWORD: &str =
    "mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }";

const LINK_SUBJECT: &str = "Confirm the new email address";
const NOTICE_SUBJECT: &str = "A new email address was asked for";
const TAKEN_SUBJECT: &str = "Your address was given for another";

async fn app_with_sink() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        s.mail.links.public_url = "https://app.example.com".into();
    })
    .await;
    (app, sink)
}

/// A registered, verified, freshly logged-in user; its access token.
async fn verified_user(app: &TestApp, sink: &SmtpSink) -> (TestUser, String) {
    let (user, login) = app.signed_in_user().await;
    let token = sink.wait_for(&user.email, 1).await[0].link_token();
    app.gql(VERIFY, json!({ "token": token })).await.assert_ok();
    (user, str_field(&login, "accessToken").to_owned())
}

fn fresh_address() -> String {
    format!("new-{}@example.org", uuid::Uuid::new_v4().simple())
}

async fn change(app: &TestApp, access: &str, new_email: &str, step_up: Value) -> GqlResponse {
    let mut variables = json!({ "newEmail": new_email });
    if let (Some(into), Some(from)) = (variables.as_object_mut(), step_up.as_object()) {
        into.extend(from.clone());
    }
    app.gql_with_token(access, CHANGE_EMAIL, variables).await
}

async fn confirm(app: &TestApp, token: &str) -> GqlResponse {
    app.gql(CONFIRM, json!({ "token": token })).await
}

async fn me(app: &TestApp, access: &str) -> Value {
    app.gql_with_token(access, ME, json!({})).await.assert_ok()["me"].clone()
}

/// Waits for a mail to `address` whose subject contains `subject`; the `nth` such (from 1).
async fn wait_for_subject(sink: &SmtpSink, address: &str, subject: &str, nth: usize) -> Received {
    for _ in 0..400 {
        let got: Vec<Received> = sink
            .to(address)
            .into_iter()
            .filter(|m| m.subject().contains(subject))
            .collect();
        if got.len() >= nth {
            return got[nth - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no mail #{nth} with subject {subject:?} for {address}: {:#?}",
        sink.to(address)
    );
}

/// Waits until the outbox holds no row still to be prepared or sent.
async fn outbox_settled(app: &TestApp) {
    for _ in 0..400 {
        let rows = outbox_rows(app).await;
        if rows
            .iter()
            .all(|row| row.status != "requested" && row.status != "pending")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never settled: {:#?}", outbox_rows(app).await);
}

#[tokio::test]
async fn the_change_works_end_to_end_from_the_received_mail() {
    let (app, sink) = app_with_sink().await;
    let (user, access) = verified_user(&app, &sink).await;
    let new_email = fresh_address();

    let answer = change(&app, &access, &new_email.to_uppercase(), json!({})).await;
    assert_eq!(answer.assert_ok()["changeEmail"], json!(true));

    let mail = wait_for_subject(&sink, &new_email, LINK_SUBJECT, 1).await;
    assert!(
        mail.link()
            .starts_with("https://app.example.com/confirm-email-change#token="),
        "{}",
        mail.link()
    );
    let token = mail.link_token();
    assert_eq!(token.len(), 43, "256 bits in base64url");
    assert!(mail.text().contains("for 24 hours"), "{}", mail.text());
    assert!(
        mail.html().contains(&token),
        "the HTML part has the link too"
    );

    // The old, verified address is told at once, with what to do if it was not them.
    let notice = wait_for_subject(&sink, &user.email, NOTICE_SUBJECT, 1).await;
    assert!(
        notice.text().contains("If this was not you"),
        "{}",
        notice.text()
    );
    assert!(!notice.text().contains("#token="), "{}", notice.text());

    // Nothing changes until the link is confirmed.
    let before = me(&app, &access).await;
    assert_eq!(before["email"], json!(user.email));
    app.login(json!({ "email": new_email, "password": user.password }))
        .await
        .assert_error("UNAUTHENTICATED", 401);

    confirm(&app, &token).await.assert_ok();
    let after = me(&app, &access).await;
    assert_eq!(after["email"], json!(new_email), "stored lower-cased");
    assert_eq!(after["emailVerified"], json!(true));

    app.login(json!({ "email": new_email, "password": user.password }))
        .await
        .assert_ok();
    app.login(json!({ "email": user.email, "password": user.password }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    confirm(&app, &token)
        .await
        .assert_error("UNAUTHENTICATED", 401);
    confirm(&app, "not-a-token")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn a_stale_session_needs_the_password_in_the_call() {
    let (app, sink) = app_with_sink().await;
    let (user, access) = verified_user(&app, &sink).await;
    let new_email = fresh_address();
    app.clock.advance(Duration::from_secs(6 * 60));

    let refused = change(&app, &access, &new_email, json!({})).await;
    refused.assert_error("REAUTH_REQUIRED", 401);
    change(
        &app,
        &access,
        &new_email,
        json!({ "password": "Wrong-password-1" }),
    )
    .await
    .assert_error("UNAUTHENTICATED", 401);
    let rows = outbox_rows(&app).await;
    assert!(
        rows.iter()
            .all(|row| row.recipient != new_email && row.kind != "email_change_requested"),
        "a refused request writes no mail: {rows:#?}"
    );

    let answer = change(
        &app,
        &access,
        &new_email,
        json!({ "password": user.password }),
    )
    .await;
    assert_eq!(answer.assert_ok()["changeEmail"], json!(true));
    let token = wait_for_subject(&sink, &new_email, LINK_SUBJECT, 1)
        .await
        .link_token();
    confirm(&app, &token).await.assert_ok();
    assert_eq!(me(&app, &access).await["email"], json!(new_email));
}

#[tokio::test]
async fn sixteen_parallel_confirms_with_one_token_admit_exactly_one() {
    let (app, sink) = app_with_sink().await;
    let (_user, access) = verified_user(&app, &sink).await;
    let new_email = fresh_address();
    change(&app, &access, &new_email, json!({}))
        .await
        .assert_ok();
    let token = wait_for_subject(&sink, &new_email, LINK_SUBJECT, 1)
        .await
        .link_token();
    let app = Arc::new(app);
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let app = app.clone();
            let token = token.clone();
            tokio::spawn(async move { confirm(&app, &token).await })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        let answer = racer.await.unwrap();
        if answer.body["data"]["confirmEmailChange"] == json!(true) {
            winners += 1;
        } else {
            answer.assert_error("UNAUTHENTICATED", 401);
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(me(&app, &access).await["email"], json!(new_email));
}

#[tokio::test]
async fn an_address_another_account_has_gets_the_same_answer_and_no_link() {
    let (app, sink) = app_with_sink().await;
    let (user, access) = verified_user(&app, &sink).await;
    let owner = TestUser::generate();
    app.register(&owner).await;
    sink.wait_for(&owner.email, 1).await; // its verification mail
    let free = fresh_address();

    let to_free = change(&app, &access, &free, json!({})).await;
    let free_link = wait_for_subject(&sink, &free, LINK_SUBJECT, 1).await;
    let to_taken = change(&app, &access, &owner.email.to_uppercase(), json!({})).await;
    assert_eq!(to_free.text, to_taken.text, "byte-identical answers");
    assert_eq!(to_taken.assert_ok()["changeEmail"], json!(true));

    // The old address is told of both requests alike.
    wait_for_subject(&sink, &user.email, NOTICE_SUBJECT, 2).await;
    // The owner of the taken address gets a note without a link, naming no one.
    let note = wait_for_subject(&sink, &owner.email, TAKEN_SUBJECT, 1).await;
    assert!(!note.text().contains("#token="), "{}", note.text());
    assert!(!note.text().contains(&user.username), "{}", note.text());
    assert!(!note.html().contains(&user.username), "{}", note.html());
    assert!(
        sink.to(&owner.email)
            .iter()
            .all(|m| !m.subject().contains(LINK_SUBJECT)),
        "no confirmation link to the taken address"
    );
    // The request voided the earlier link as a link to a free address would have.
    outbox_settled(&app).await;
    confirm(&app, &free_link.link_token())
        .await
        .assert_error("UNAUTHENTICATED", 401);
    assert_eq!(me(&app, &access).await["email"], json!(user.email));
    app.login_username(&owner).await;
}

#[tokio::test]
async fn an_address_taken_between_request_and_confirm_is_a_conflict() {
    let (app, sink) = app_with_sink().await;
    let (user, access) = verified_user(&app, &sink).await;
    let contested = fresh_address();
    change(&app, &access, &contested, json!({}))
        .await
        .assert_ok();
    let token = wait_for_subject(&sink, &contested, LINK_SUBJECT, 1)
        .await
        .link_token();

    let squatter = TestUser {
        email: contested.clone(),
        ..TestUser::generate()
    };
    app.register(&squatter).await;

    let answer = confirm(&app, &token).await;
    answer.assert_error("CONFLICT", 409);
    assert_eq!(me(&app, &access).await["email"], json!(user.email));
    app.login(json!({ "email": user.email, "password": user.password }))
        .await
        .assert_ok();
}

#[tokio::test]
async fn changing_the_password_cancels_a_pending_change() {
    let (app, sink) = app_with_sink().await;
    let (user, access) = verified_user(&app, &sink).await;
    let new_email = fresh_address();
    change(&app, &access, &new_email, json!({}))
        .await
        .assert_ok();
    let token = wait_for_subject(&sink, &new_email, LINK_SUBJECT, 1)
        .await
        .link_token();
    app.gql_with_token(
        &access,
        CHANGE_PASSWORD,
        json!({ "input": { "currentPassword": user.password, "newPassword": "Taken-back-passphrase-3" } }),
    )
    .await
    .assert_ok();
    confirm(&app, &token)
        .await
        .assert_error("UNAUTHENTICATED", 401);
    assert_eq!(me(&app, &access).await["email"], json!(user.email));
}

#[tokio::test]
async fn requests_count_toward_the_hourly_mail_limits() {
    let (app, sink) = app_with_sink().await;
    let (user, access) = verified_user(&app, &sink).await;
    // The old address has had its verification mail: four notices more fill its hour.
    let mut bodies = Vec::new();
    for _ in 0..6 {
        bodies.push(
            change(&app, &access, &fresh_address(), json!({}))
                .await
                .text,
        );
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
    let rows = outbox_rows(&app).await;
    let notices = rows
        .iter()
        .filter(|row| row.kind == "email_change_requested")
        .count();
    let links = rows.iter().filter(|row| row.kind == "email_change").count();
    assert_eq!(notices, 4, "{rows:#?}");
    assert_eq!(links, 4, "no change goes ahead unannounced: {rows:#?}");
    wait_for_subject(&sink, &user.email, NOTICE_SUBJECT, 4).await;
}

#[tokio::test]
async fn the_two_mutations_are_credential_fields() {
    let (app, _sink) = app_with_sink().await;
    let (_user, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    for document in [
        "mutation { a: changeEmail(newEmail: \"a@example.org\") b: changeEmail(newEmail: \"b@example.org\") }",
        "mutation { a: confirmEmailChange(token: \"x\") b: confirmEmailChange(token: \"y\") }",
    ] {
        let refused = app.gql_with_token(access, document, json!({})).await;
        refused.assert_error("GRAPHQL_VALIDATION_FAILED", 400);
        assert!(
            refused
                .error_message()
                .contains("at most one credential-checking field"),
            "{}",
            refused.error_message()
        );
    }
}
