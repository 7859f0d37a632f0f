//! Passkeys over GraphQL with a software authenticator: registration, login with and
//! without a username in every token mode, and the refusals (replay, race, wrong origin,
//! wrong RP id, another account's credential), on whichever database the suite runs.

use serde_json::{Value, json};

use crate::browser::{ACCESS_COOKIE, Browser};
use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};
use crate::software_passkey::{AAGUID, SoftwarePasskey};

/// Where the software authenticator's page is, for the default (localhost) settings.
const ORIGIN: &str = "http://localhost:5173";

const START_REGISTRATION: &str =
    "mutation S($name: String!) { startPasskeyRegistration(name: $name) }";
const FINISH_REGISTRATION: &str = "mutation F($response: JSON!) { finishPasskeyRegistration(response: $response) { id name aaguid model backupEligible backedUp userVerified created lastUsedAt } }";
const START_LOGIN: &str =
    "mutation S($username: String) { startPasskeyLogin(username: $username) }";
const FINISH_LOGIN: &str = "mutation F($response: JSON!, $mode: TokenMode) { finishPasskeyLogin(response: $response, mode: $mode) { accessToken refreshToken tokenType expires user { id username } credentials { identityId token refreshToken } } }";
const PASSKEYS: &str = "query { passkeys { id name aaguid model lastUsedAt } }";

/// A registered user with a fresh login (so registration needs no password) and a
/// passkey registered from `authenticator`; returns the user, its access token and the
/// new passkey.
async fn user_with_passkey(
    app: &TestApp,
    authenticator: &mut SoftwarePasskey,
) -> (TestUser, String, Value) {
    let (user, payload) = app.signed_in_user().await;
    let token = str_field(&payload, "accessToken").to_owned();
    let passkey = register_passkey(app, &token, authenticator, "Laptop").await;
    (user, token, passkey)
}

async fn register_passkey(
    app: &TestApp,
    token: &str,
    authenticator: &mut SoftwarePasskey,
    name: &str,
) -> Value {
    let options = app
        .gql_with_token(token, START_REGISTRATION, json!({ "name": name }))
        .await
        .assert_ok()["startPasskeyRegistration"]
        .clone();
    let response = authenticator.create(&options).await;
    app.gql_with_token(token, FINISH_REGISTRATION, json!({ "response": response }))
        .await
        .assert_ok()["finishPasskeyRegistration"]
        .clone()
}

async fn login_options(app: &TestApp, username: Option<&str>) -> Value {
    app.gql(START_LOGIN, json!({ "username": username }))
        .await
        .assert_ok()["startPasskeyLogin"]
        .clone()
}

async fn finish_login(app: &TestApp, response: &Value, mode: &str) -> GqlResponse {
    app.gql(FINISH_LOGIN, json!({ "response": response, "mode": mode }))
        .await
}

#[tokio::test]
async fn registration_options_are_what_the_browser_parses() {
    let app = TestApp::spawn().await;
    let (_, payload) = app.signed_in_user().await;
    let token = str_field(&payload, "accessToken");
    let options = app
        .gql_with_token(token, START_REGISTRATION, json!({ "name": "Laptop" }))
        .await
        .assert_ok()["startPasskeyRegistration"]
        .clone();
    // PublicKeyCredential.parseCreationOptionsFromJSON: base64url strings, rp id, user.
    assert_eq!(options["rp"]["id"], "localhost");
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    assert!(options["user"]["id"].is_string());
    assert_eq!(
        options["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
}

#[tokio::test]
async fn a_registered_passkey_is_listed_with_its_model() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let (_, token, passkey) = user_with_passkey(&app, &mut authenticator).await;
    assert_eq!(passkey["name"], "Laptop");
    assert_eq!(passkey["aaguid"], AAGUID);
    assert_eq!(passkey["model"], "Bitwarden");
    assert_eq!(passkey["userVerified"], true);
    assert!(passkey["lastUsedAt"].is_null());
    let listed = app.gql_with_token(&token, PASSKEYS, json!({})).await;
    assert_eq!(listed.assert_ok()["passkeys"][0]["id"], passkey["id"]);
}

#[tokio::test]
async fn a_passkey_logs_in_without_a_username_in_every_mode() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let (user, _, _) = user_with_passkey(&app, &mut authenticator).await;
    for mode in ["JSON", "COOKIE", "SESSION"] {
        let options = login_options(&app, None).await;
        assert!(
            options
                .get("allowCredentials")
                .is_none_or(|list| list.as_array().is_some_and(Vec::is_empty))
        );
        let response = authenticator.get(&options).await;
        let answer = finish_login(&app, &response, mode).await;
        let payload = &answer.assert_ok()["finishPasskeyLogin"];
        assert_eq!(
            payload["user"]["username"],
            user.username.as_str(),
            "{mode}"
        );
        assert_eq!(payload["tokenType"], "Bearer");
        match mode {
            "JSON" => {
                assert!(payload["accessToken"].is_string());
                assert!(payload["refreshToken"].is_string());
                let me = app.me(payload["accessToken"].as_str()).await;
                assert_eq!(me.assert_ok()["me"]["username"], user.username.as_str());
            }
            "COOKIE" => {
                assert!(payload["accessToken"].is_string());
                assert!(payload["refreshToken"].is_null());
            }
            _ => {
                assert!(payload["accessToken"].is_null());
                assert!(payload["refreshToken"].is_null());
                assert!(payload["credentials"]["token"].is_null());
            }
        }
    }
}

#[tokio::test]
async fn a_session_mode_passkey_login_sets_the_cookies_login_sets() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let (user, _, _) = user_with_passkey(&app, &mut authenticator).await;
    let browser = Browser::new(&app);
    let options =
        browser.post(START_LOGIN, json!({})).await.assert_ok()["startPasskeyLogin"].clone();
    let response = authenticator.get(&options).await;
    let answer = browser
        .post(
            FINISH_LOGIN,
            json!({ "response": response, "mode": "SESSION" }),
        )
        .await;
    answer.assert_ok();
    assert!(
        browser.cookie(ACCESS_COOKIE).is_some(),
        "the access cookie is set"
    );
    let me = browser.me().await;
    assert_eq!(me.assert_ok()["me"]["username"], user.username.as_str());
}

#[tokio::test]
async fn a_username_lists_the_accounts_passkeys() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let (user, _, _) = user_with_passkey(&app, &mut authenticator).await;
    let options = login_options(&app, Some(&user.username)).await;
    assert_eq!(
        options["allowCredentials"].as_array().map(Vec::len),
        Some(1)
    );
    let response = authenticator.get(&options).await;
    let answer = finish_login(&app, &response, "JSON").await;
    assert_eq!(
        answer.assert_ok()["finishPasskeyLogin"]["user"]["username"],
        user.username.as_str()
    );
    let token = app.login_username(&user).await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = app.gql_with_token(&token, PASSKEYS, json!({})).await;
    assert!(
        listed.assert_ok()["passkeys"][0]["lastUsedAt"].is_string(),
        "the use is recorded"
    );
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    user_with_passkey(&app, &mut authenticator).await;
    let options = login_options(&app, None).await;
    let response = authenticator.get(&options).await;
    finish_login(&app, &response, "JSON").await.assert_ok();
    finish_login(&app, &response, "JSON")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    user_with_passkey(&app, &mut authenticator).await;
    let options = login_options(&app, None).await;
    let response = authenticator.get(&options).await;
    app.clock.advance(std::time::Duration::from_secs(121));
    finish_login(&app, &response, "JSON")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn sixteen_parallel_finishes_of_one_challenge_let_exactly_one_in() {
    // Room for all sixteen under the account lock, so the database decides, not the lock.
    let app = std::sync::Arc::new(TestApp::spawn_with(|s| s.login_free_failures = 100).await);
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    user_with_passkey(&app, &mut authenticator).await;
    let options = login_options(&app, None).await;
    let response = authenticator.get(&options).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let app = app.clone();
            let response = response.clone();
            tokio::spawn(async move { finish_login(&app, &response, "JSON").await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let won = answers
        .iter()
        .filter(|a| a.body["data"]["finishPasskeyLogin"].is_object())
        .count();
    assert_eq!(won, 1, "{answers:#?}");
    for answer in answers
        .iter()
        .filter(|a| !a.body["data"]["finishPasskeyLogin"].is_object())
    {
        answer.assert_error("UNAUTHENTICATED", 401);
    }
}

#[tokio::test]
async fn a_wrong_origin_is_refused() {
    let app = TestApp::spawn_with(|s| {
        s.webauthn.rp_id = "example.com".into();
        s.webauthn.origins = vec![url::Url::parse("https://login.example.com").unwrap()];
    })
    .await;
    let mut authenticator = SoftwarePasskey::new("https://login.example.com");
    user_with_passkey(&app, &mut authenticator).await;
    let options = login_options(&app, None).await;
    authenticator.origin = url::Url::parse("https://evil.example.com").unwrap();
    let response = authenticator.get(&options).await;
    finish_login(&app, &response, "JSON")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn a_wrong_rp_id_is_refused() {
    let app = TestApp::spawn_with(|s| {
        s.webauthn.rp_id = "example.com".into();
        s.webauthn.origins = vec![url::Url::parse("https://login.example.com").unwrap()];
    })
    .await;
    let mut authenticator = SoftwarePasskey::new("https://login.example.com");
    user_with_passkey(&app, &mut authenticator).await;
    let mut options = login_options(&app, None).await;
    // The page asks its authenticator for a credential of another relying party: the
    // origin is right, the RP id hash in the signed data is not.
    options["rpId"] = json!("login.example.com");
    let response = authenticator.get(&options).await;
    finish_login(&app, &response, "JSON")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn another_accounts_credential_is_refused_for_a_named_account() {
    let app = TestApp::spawn().await;
    let mut alice_key = SoftwarePasskey::new(ORIGIN);
    user_with_passkey(&app, &mut alice_key).await;
    let mut bob_key = SoftwarePasskey::new(ORIGIN);
    let (bob, _, _) = user_with_passkey(&app, &mut bob_key).await;
    // A login started for Bob, answered by Alice's passkey.
    let mut options = login_options(&app, Some(&bob.username)).await;
    options["allowCredentials"] = json!([]);
    let response = alice_key.get(&options).await;
    finish_login(&app, &response, "JSON")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn refused_assertions_count_toward_the_account_lock() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    user_with_passkey(&app, &mut authenticator).await;
    let options = login_options(&app, None).await;
    let response = authenticator.get(&options).await;
    finish_login(&app, &response, "JSON").await.assert_ok();
    // Five replays are five failures; the sixth attempt finds the account locked, even
    // with a good assertion.
    for _ in 0..5 {
        finish_login(&app, &response, "JSON")
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    let options = login_options(&app, None).await;
    let fresh = authenticator.get(&options).await;
    finish_login(&app, &fresh, "JSON")
        .await
        .assert_error("RATE_LIMITED", 429);
}

#[tokio::test]
async fn a_registration_challenge_of_another_account_is_refused() {
    let app = TestApp::spawn().await;
    let (_, alice) = app.signed_in_user().await;
    let (_, bob) = app.signed_in_user().await;
    let options = app
        .gql_with_token(
            str_field(&alice, "accessToken"),
            START_REGISTRATION,
            json!({ "name": "A" }),
        )
        .await
        .assert_ok()["startPasskeyRegistration"]
        .clone();
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let response = authenticator.create(&options).await;
    app.gql_with_token(
        str_field(&bob, "accessToken"),
        FINISH_REGISTRATION,
        json!({ "response": response }),
    )
    .await
    .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn registration_needs_a_recent_authentication() {
    let app = TestApp::spawn().await;
    let (_, payload) = app.signed_in_user().await;
    app.clock.advance(std::time::Duration::from_secs(301));
    app.gql_with_token(
        str_field(&payload, "accessToken"),
        START_REGISTRATION,
        json!({ "name": "A" }),
    )
    .await
    .assert_error("REAUTH_REQUIRED", 401);
}

#[tokio::test]
async fn a_garbled_response_is_bad_input() {
    let app = TestApp::spawn().await;
    finish_login(&app, &json!({ "id": 1 }), "JSON")
        .await
        .assert_error("BAD_USER_INPUT", 400);
}

#[tokio::test]
async fn passkeys_are_renamed_and_deleted_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let (_, token, passkey) = user_with_passkey(&app, &mut authenticator).await;
    let (_, other) = app.signed_in_user().await;
    let other = str_field(&other, "accessToken");
    let id = passkey["id"].as_str().unwrap();
    let rename = "mutation R($id: ID!, $name: String!) { renamePasskey(id: $id, name: $name) }";
    let delete = "mutation D($id: ID!) { deletePasskey(id: $id) }";
    let answer = app
        .gql_with_token(other, rename, json!({ "id": id, "name": "Mine" }))
        .await;
    assert_eq!(answer.assert_ok()["renamePasskey"], false);
    let answer = app.gql_with_token(other, delete, json!({ "id": id })).await;
    assert_eq!(answer.assert_ok()["deletePasskey"], false);
    let answer = app
        .gql_with_token(&token, rename, json!({ "id": id, "name": "Phone" }))
        .await;
    assert_eq!(answer.assert_ok()["renamePasskey"], true);
    let answer = app
        .gql_with_token(&token, delete, json!({ "id": id }))
        .await;
    assert_eq!(answer.assert_ok()["deletePasskey"], true);
    // A deleted passkey no longer logs in.
    let options = login_options(&app, None).await;
    let response = authenticator.get(&options).await;
    finish_login(&app, &response, "JSON")
        .await
        .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn with_totp_on_a_passkey_completes_the_password_logins_second_step() {
    let app = TestApp::spawn().await;
    let totp = crate::totp::with_totp_on(&app).await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    register_passkey(&app, &totp.access_token, &mut authenticator, "Key").await;
    crate::totp::login_with_otp(&app, &totp.user, None)
        .await
        .assert_error("OTP_REQUIRED", 401);
    let options = login_options(&app, Some(&totp.user.username)).await;
    let response = authenticator.get(&options).await;
    let login = app
        .login(json!({
            "username": totp.user.username,
            "password": totp.user.password,
            "passkey": response,
        }))
        .await;
    assert_eq!(
        login.assert_ok()["login"]["user"]["username"],
        totp.user.username.as_str()
    );
    // The same assertion again is a replay.
    app.login(json!({
        "username": totp.user.username,
        "password": totp.user.password,
        "passkey": response,
    }))
    .await
    .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn a_second_step_passkey_from_a_discoverable_ceremony_is_refused() {
    let app = TestApp::spawn().await;
    let totp = crate::totp::with_totp_on(&app).await;
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    register_passkey(&app, &totp.access_token, &mut authenticator, "Key").await;
    // Not bound to the account: a login ceremony anyone could have started.
    let options = login_options(&app, None).await;
    let response = authenticator.get(&options).await;
    app.login(json!({
        "username": totp.user.username,
        "password": totp.user.password,
        "passkey": response,
    }))
    .await
    .assert_error("UNAUTHENTICATED", 401);
}

const START_SIGNUP: &str =
    "mutation S($input: PasskeySignupInput!) { startPasskeySignup(input: $input) }";
const FINISH_SIGNUP: &str = "mutation F($response: JSON!) { finishPasskeySignup(response: $response) { accessToken user { id username } } }";

#[tokio::test]
async fn a_passwordless_signup_logs_in_and_keeps_its_last_passkey() {
    let app = TestApp::spawn().await;
    let user = TestUser::generate();
    let options = app
        .gql(
            START_SIGNUP,
            json!({ "input": { "username": user.username, "passkeyName": "Phone" } }),
        )
        .await
        .assert_ok()["startPasskeySignup"]
        .clone();
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let response = authenticator.create(&options).await;
    let signed_up = app
        .gql(FINISH_SIGNUP, json!({ "response": response }))
        .await;
    let payload = signed_up.assert_ok()["finishPasskeySignup"].clone();
    assert_eq!(payload["user"]["username"], user.username.as_str());
    let token = str_field(&payload, "accessToken").to_owned();
    // No password logs in, not even an empty one.
    app.login(json!({ "username": user.username, "password": "whatever-it-is" }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    // The passkey does.
    let options = login_options(&app, None).await;
    let assertion = authenticator.get(&options).await;
    finish_login(&app, &assertion, "JSON").await.assert_ok();
    // Its only passkey cannot go: it would leave no way in.
    let listed = app.gql_with_token(&token, PASSKEYS, json!({})).await;
    let id = listed.assert_ok()["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(listed.body["data"]["passkeys"][0]["name"], "Phone");
    let delete = "mutation D($id: ID!) { deletePasskey(id: $id) }";
    app.gql_with_token(&token, delete, json!({ "id": id }))
        .await
        .assert_error("BAD_USER_INPUT", 400);
    // With a second one it can.
    let mut second = SoftwarePasskey::new(ORIGIN);
    register_passkey(&app, &token, &mut second, "Laptop").await;
    let answer = app
        .gql_with_token(&token, delete, json!({ "id": id }))
        .await;
    assert_eq!(answer.assert_ok()["deletePasskey"], true);
}

#[tokio::test]
async fn a_signup_challenge_is_not_a_registration_challenge() {
    let app = TestApp::spawn().await;
    let (_, payload) = app.signed_in_user().await;
    let user = TestUser::generate();
    let options = app
        .gql(
            START_SIGNUP,
            json!({ "input": { "username": user.username } }),
        )
        .await
        .assert_ok()["startPasskeySignup"]
        .clone();
    let mut authenticator = SoftwarePasskey::new(ORIGIN);
    let response = authenticator.create(&options).await;
    app.gql_with_token(
        str_field(&payload, "accessToken"),
        FINISH_REGISTRATION,
        json!({ "response": response }),
    )
    .await
    .assert_error("UNAUTHENTICATED", 401);
}

#[tokio::test]
async fn passwordless_signup_is_refused_when_signup_is_off_and_for_taken_names() {
    let app = TestApp::spawn().await;
    let (taken, _) = app.signed_in_user().await;
    app.gql(
        START_SIGNUP,
        json!({ "input": { "username": taken.username } }),
    )
    .await
    .assert_error("CONFLICT", 409);
    let closed = TestApp::spawn_with(|s| s.signup = false).await;
    closed
        .gql(START_SIGNUP, json!({ "input": { "username": "newcomer" } }))
        .await
        .assert_error("FORBIDDEN", 403);
}

#[tokio::test]
async fn a_personal_token_cannot_register_a_passkey() {
    let app = TestApp::spawn().await;
    let (user, payload) = app.signed_in_user().await;
    let made = app
        .gql_with_token(
            str_field(&payload, "accessToken"),
            "mutation { addAuthHeader(name: \"script\") { token } }",
            json!({}),
        )
        .await;
    let personal = made.assert_ok()["addAuthHeader"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql_with_token(
        &personal,
        "mutation S($name: String!, $password: String) { startPasskeyRegistration(name: $name, password: $password) }",
        json!({ "name": "Sneaky", "password": user.password }),
    )
    .await
    .assert_error("FORBIDDEN", 403);
}
