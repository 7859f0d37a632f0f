//! Proving an address: the mail `register` and `requestEmailVerification` send over real
//! SMTP, `verifyEmail` with the link's token or the code, and `require_verified_email`.

use serde_json::json;

use crate::helpers::{TestApp, TestUser, str_field};
use crate::smtp_sink::SmtpSink;

pub const VERIFY: &str = "mutation Verify($token: String!) { verifyEmail(token: $token) }";
const REQUEST: &str = "mutation { requestEmailVerification }";
const EMAIL_VERIFIED: &str = "query { me { emailVerified } }";

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

async fn email_verified(app: &TestApp, access_token: &str) -> bool {
    app.gql_with_token(access_token, EMAIL_VERIFIED, json!({}))
        .await
        .assert_ok()["me"]["emailVerified"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn register_sends_a_link_and_a_code_and_the_link_verifies_the_address() {
    let (app, sink) = app_with_sink().await;
    let (user, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    assert!(!email_verified(&app, access).await);

    let mail = sink.wait_for(&user.email, 1).await.remove(0);
    assert!(
        mail.subject().contains("Confirm your email address"),
        "{}",
        mail.subject()
    );
    let link = mail.link();
    assert!(
        link.starts_with("https://app.example.com/verify-email#token="),
        "{link}"
    );
    assert_eq!(mail.code().len(), 8);
    assert!(
        mail.html().contains(&mail.link_token()),
        "the HTML part has the link too"
    );

    app.gql(VERIFY, json!({ "token": mail.link_token() }))
        .await
        .assert_ok();
    assert!(email_verified(&app, access).await);
    app.gql(VERIFY, json!({ "token": mail.link_token() }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn the_code_verifies_only_for_its_logged_in_owner() {
    let (app, sink) = app_with_sink().await;
    let (user, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let code = sink.wait_for(&user.email, 1).await[0].code();

    app.gql(VERIFY, json!({ "token": code }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    let (_, other) = app.signed_in_user().await;
    app.gql_with_token(
        str_field(&other, "accessToken"),
        VERIFY,
        json!({ "token": code }),
    )
    .await
    .assert_error("UNAUTHENTICATED", 401);

    let typed = format!("{}-{}", &code[..4], code[4..].to_lowercase());
    app.gql_with_token(access, VERIFY, json!({ "token": typed }))
        .await
        .assert_ok();
    assert!(email_verified(&app, access).await);
}

#[tokio::test]
async fn five_wrong_codes_void_the_mail() {
    let (app, sink) = app_with_sink().await;
    let (user, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let mail = sink.wait_for(&user.email, 1).await.remove(0);
    let right = mail.code();
    let wrong = if right == "ABCDEFGH" {
        "HGFEDCBA"
    } else {
        "ABCDEFGH"
    };
    for _ in 0..5 {
        app.gql_with_token(access, VERIFY, json!({ "token": wrong }))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    app.gql_with_token(access, VERIFY, json!({ "token": right }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.gql(VERIFY, json!({ "token": mail.link_token() }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    assert!(!email_verified(&app, access).await);
}

#[tokio::test]
async fn a_new_request_voids_the_earlier_link_and_a_verified_address_needs_none() {
    let (app, sink) = app_with_sink().await;
    let (user, login) = app.signed_in_user().await;
    let access = str_field(&login, "accessToken");
    let first = sink.wait_for(&user.email, 1).await.remove(0);
    let answer = app.gql_with_token(access, REQUEST, json!({})).await;
    assert_eq!(answer.assert_ok()["requestEmailVerification"], json!(true));
    let second = sink.wait_for(&user.email, 2).await.remove(1);
    assert_ne!(first.link_token(), second.link_token());

    app.gql(VERIFY, json!({ "token": first.link_token() }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    app.gql(VERIFY, json!({ "token": second.link_token() }))
        .await
        .assert_ok();
    let again = app.gql_with_token(access, REQUEST, json!({})).await;
    assert_eq!(again.assert_ok()["requestEmailVerification"], json!(false));
}

#[tokio::test]
async fn an_account_without_an_address_has_nothing_to_verify() {
    let (app, _sink) = app_with_sink().await;
    let user = TestUser::generate();
    let mut input = user.register_input();
    input["email"] = serde_json::Value::Null;
    app.gql(crate::helpers::REGISTER, json!({ "input": input }))
        .await
        .assert_ok();
    let login = app.login_username(&user).await;
    app.gql_with_token(str_field(&login, "accessToken"), REQUEST, json!({}))
        .await
        .assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test]
async fn with_require_verified_email_login_waits_for_the_verification() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        s.mail.require_verified_email = true;
    })
    .await;
    let user = TestUser::generate();
    app.register(&user).await;

    let refused = app
        .login(json!({ "username": user.username, "password": user.password }))
        .await;
    refused.assert_error("EMAIL_NOT_VERIFIED", 403);
    assert!(refused.headers.get("set-cookie").is_none());
    // The wrong password is still just a wrong password: the rule tells nothing first.
    app.login(json!({ "username": user.username, "password": "Wrong-password-1" }))
        .await
        .assert_error("UNAUTHENTICATED", 401);

    let token = sink.wait_for(&user.email, 1).await[0].link_token();
    app.gql(VERIFY, json!({ "token": token })).await.assert_ok();
    app.login_username(&user).await;

    let mut no_email = TestUser::generate().register_input();
    no_email["email"] = serde_json::Value::Null;
    app.gql(crate::helpers::REGISTER, json!({ "input": no_email }))
        .await
        .assert_error("BAD_USER_INPUT", 400);
}
