//! The security event log (issue 18): every state-changing mutation (and CLI command)
//! writes exactly its events, no event holds a secret of the run, each account reads only
//! its own, only admins read everyone's, pages and cursors behave, and retention deletes
//! by the server's clock.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{latchkey, stderr, stdout};
use crate::helpers::{GqlResponse, TestApp, TestUser, str_field};
use crate::password_reset::{RESET, request_reset};
use crate::smtp_sink::SmtpSink;
use crate::totp::{code_at, current_step};

const MY_EVENTS: &str = "query Mine($first: Int, $after: String) { myAuthEvents(first: $first, after: $after) { \
    edges { cursor node { id occurredAt kind userId sessionId clientAddress userAgent detail } } \
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
const ALL_EVENTS: &str = "query All($filter: AuthEventFilter, $first: Int, $after: String) { \
    authEvents(filter: $filter, first: $first, after: $after) { \
    edges { cursor node { id occurredAt kind userId sessionId clientAddress userAgent detail } } \
    pageInfo { hasNextPage endCursor } } }";
const ADD_HEADER: &str =
    "mutation Add($name: String!) { addAuthHeader(name: $name) { token authHeader { id } } }";
const DELETE_HEADER: &str = "mutation Delete($id: ID) { deleteAuthHeader(id: $id) }";
const ENROLL: &str = "mutation { enrollTotp { secret } }";
const CONFIRM_TOTP: &str = "mutation Confirm($otp: String!) { confirmTotp(otp: $otp) }";
const DISABLE_TOTP: &str = "mutation Disable($password: String!, $otp: String!) { disableTotp(password: $password, otp: $otp) }";
const REVOKE: &str = "mutation Revoke($id: ID!) { revokeSession(id: $id) }";
const CHANGE_PASSWORD: &str =
    "mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }";
const CHANGE_EMAIL: &str =
    "mutation Change($newEmail: String!) { changeEmail(newEmail: $newEmail) }";
const CONFIRM_EMAIL: &str =
    "mutation Confirm($token: String!) { confirmEmailChange(token: $token) }";
const VERIFY: &str = "mutation Verify($token: String!) { verifyEmail(token: $token) }";
const LOGOUT_ALL: &str = "mutation Out($refreshToken: String) { logout(refreshToken: $refreshToken, allSessions: true) }";

/// The claims' `sid` of an access token: the session it belongs to.
fn sid(payload: &Value) -> String {
    crate::helpers::jwt_part(str_field(payload, "accessToken"), 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every event visible to `token` through `authEvents` (admins), oldest first.
async fn all_events(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = app
            .gql_with_token(
                token,
                ALL_EVENTS,
                json!({ "filter": filter, "first": 100, "after": after }),
            )
            .await;
        let page = response.assert_ok()["authEvents"].clone();
        for edge in page["edges"].as_array().unwrap() {
            events.push(edge["node"].clone());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    events.reverse();
    events
}

/// Every event of the caller, oldest first, walking pages of `first`.
async fn my_events(app: &TestApp, token: &str, first: i64) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let response = app
            .gql_with_token(token, MY_EVENTS, json!({ "first": first, "after": after }))
            .await;
        let page = response.assert_ok()["myAuthEvents"].clone();
        for edge in page["edges"].as_array().unwrap() {
            events.push(edge["node"].clone());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    events.reverse();
    events
}

/// `(kind, user, session)` of each event, `user` and `session` as given or null.
fn shape(events: &[Value]) -> Vec<(String, Value, Value)> {
    events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["userId"].clone(),
                e["sessionId"].clone(),
            )
        })
        .collect()
}

fn ev(kind: &str, user: &Value, session: Option<&str>) -> (String, Value, Value) {
    (
        kind.to_owned(),
        user.clone(),
        session.map_or(Value::Null, |s| json!(s)),
    )
}

async fn mail_with(sink: &SmtpSink, address: &str, subject: &str, count: usize) -> String {
    for _ in 0..400 {
        let got: Vec<_> = sink
            .to(address)
            .into_iter()
            .filter(|m| m.subject().contains(subject))
            .collect();
        if got.len() >= count {
            return got[count - 1].link_token();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen: Vec<(Vec<String>, String)> = sink
        .received()
        .iter()
        .map(|m| (m.to.clone(), m.subject()))
        .collect();
    panic!("no mail `{subject}` for {address}: {seen:?}");
}

fn cli(app: &TestApp, args: &[&str], password: Option<&str>) {
    let workdir = tempfile::tempdir().unwrap();
    let mut command = latchkey(app.database_url(), workdir.path());
    if let Some(password) = password {
        command.env("LATCHKEY_NEW_PASSWORD", password);
    }
    let output = command.args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {} {}",
        stdout(&output),
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_writes_exactly_its_events_and_no_event_holds_a_secret() {
    // Arrange: mail goes to a real SMTP sink; two free failures before a lock.
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = TestApp::spawn_with(move |s| {
        SmtpSink::configure(port, s);
        s.mail.links.public_url = "https://app.example.com".into();
        s.mail.per_address_per_hour = 100;
        s.mail.per_client_per_hour = 100;
        s.login_free_failures = 2;
    })
    .await;
    let alice = TestUser::generate();
    let mut secrets: Vec<String> = vec![alice.password.clone()];
    let mut expected = Vec::new();

    // register, a wrong password, a login
    let registered = app.register(&alice).await;
    let me = registered["id"].clone();
    expected.push(ev("ACCOUNT_CREATED", &me, None));
    app.login(json!({ "username": alice.username, "password": "wrong-password-1" }))
        .await
        .assert_error("UNAUTHENTICATED", 401);
    secrets.push("wrong-password-1".into());
    expected.push(ev("LOGIN_FAILED", &me, None));
    let s1 = app.login_username(&alice).await;
    let s1_id = sid(&s1);
    let t1 = str_field(&s1, "accessToken").to_owned();
    secrets.push(t1.clone());
    secrets.push(str_field(&s1, "refreshToken").to_owned());
    expected.push(ev("LOGIN_SUCCEEDED", &me, Some(&s1_id)));

    // verifyEmail with the link sent at sign-up
    let verify_token = mail_with(&sink, &alice.email, "Confirm your email address", 1).await;
    secrets.push(verify_token.clone());
    app.gql(VERIFY, json!({ "token": verify_token }))
        .await
        .assert_ok();
    expected.push(ev("EMAIL_VERIFIED", &me, None));

    // a personal token made and deleted
    let added = app
        .gql_with_token(&t1, ADD_HEADER, json!({ "name": "ci" }))
        .await;
    let header = added.assert_ok()["addAuthHeader"].clone();
    secrets.push(str_field(&header, "token").to_owned());
    let header_id = header["authHeader"]["id"].as_str().unwrap().to_owned();
    expected.push(ev("PERSONAL_TOKEN_CREATED", &me, Some(&s1_id)));
    app.gql_with_token(&t1, DELETE_HEADER, json!({ "id": header_id }))
        .await
        .assert_ok();
    expected.push(ev("PERSONAL_TOKEN_DELETED", &me, Some(&s1_id)));

    // TOTP on, then off
    let enrolled = app.gql_with_token(&t1, ENROLL, json!({})).await;
    let secret = str_field(&enrolled.assert_ok()["enrollTotp"], "secret").to_owned();
    secrets.push(secret.clone());
    let step = current_step(&app);
    let code = code_at(&secret, step);
    secrets.push(code.clone());
    let confirmed = app
        .gql_with_token(&t1, CONFIRM_TOTP, json!({ "otp": code }))
        .await;
    for recovery in confirmed.assert_ok()["confirmTotp"].as_array().unwrap() {
        secrets.push(recovery.as_str().unwrap().to_owned());
    }
    expected.push(ev("TOTP_ENABLED", &me, Some(&s1_id)));
    app.clock.advance(Duration::from_secs(30));
    let code = code_at(&secret, step + 1);
    secrets.push(code.clone());
    app.gql_with_token(
        &t1,
        DISABLE_TOTP,
        json!({ "password": alice.password, "otp": code }),
    )
    .await
    .assert_ok();
    expected.push(ev("TOTP_DISABLED", &me, Some(&s1_id)));

    // a second session, revoked from the first
    let s2 = app.login_username(&alice).await;
    let s2_id = sid(&s2);
    secrets.push(str_field(&s2, "accessToken").to_owned());
    secrets.push(str_field(&s2, "refreshToken").to_owned());
    expected.push(ev("LOGIN_SUCCEEDED", &me, Some(&s2_id)));
    let revoked = app
        .gql_with_token(&t1, REVOKE, json!({ "id": s2_id }))
        .await;
    assert_eq!(revoked.assert_ok()["revokeSession"], json!(true));
    expected.push(ev("SESSION_REVOKED", &me, Some(&s2_id)));

    // a refresh token reused after its grace window
    let s3 = app.login_username(&alice).await;
    let s3_id = sid(&s3);
    let old_refresh = str_field(&s3, "refreshToken").to_owned();
    secrets.push(str_field(&s3, "accessToken").to_owned());
    secrets.push(old_refresh.clone());
    expected.push(ev("LOGIN_SUCCEEDED", &me, Some(&s3_id)));
    let rotated = app.refresh(&old_refresh).await;
    let rotated = rotated.assert_ok()["refresh"].clone();
    secrets.push(str_field(&rotated, "accessToken").to_owned());
    secrets.push(str_field(&rotated, "refreshToken").to_owned());
    app.clock.advance(Duration::from_secs(11));
    app.refresh(&old_refresh)
        .await
        .assert_error("REFRESH_TOKEN_REUSED", 401);
    expected.push(ev("REFRESH_REUSED", &me, Some(&s3_id)));
    expected.push(ev("SESSION_REVOKED", &me, Some(&s3_id)));

    // a password change ends the other session and the personal tokens
    let s4 = app.login_username(&alice).await;
    let s4_id = sid(&s4);
    secrets.push(str_field(&s4, "accessToken").to_owned());
    secrets.push(str_field(&s4, "refreshToken").to_owned());
    expected.push(ev("LOGIN_SUCCEEDED", &me, Some(&s4_id)));
    let added = app
        .gql_with_token(&t1, ADD_HEADER, json!({ "name": "second" }))
        .await;
    secrets.push(str_field(&added.assert_ok()["addAuthHeader"], "token").to_owned());
    expected.push(ev("PERSONAL_TOKEN_CREATED", &me, Some(&s1_id)));
    let new_password = format!("New-{}", uuid::Uuid::new_v4().simple());
    secrets.push(new_password.clone());
    app.gql_with_token(
        &t1,
        CHANGE_PASSWORD,
        json!({ "input": { "currentPassword": alice.password, "newPassword": new_password } }),
    )
    .await
    .assert_ok();
    expected.push(ev("PASSWORD_CHANGED", &me, Some(&s1_id)));
    expected.push(ev("SESSION_REVOKED", &me, Some(&s4_id)));
    expected.push(ev("PERSONAL_TOKEN_DELETED", &me, None));

    // an email change, confirmed from the new address
    let new_email = format!(
        "moved-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    app.gql_with_token(&t1, CHANGE_EMAIL, json!({ "newEmail": new_email }))
        .await
        .assert_ok();
    let change_token = mail_with(&sink, &new_email, "Confirm the new email address", 1).await;
    secrets.push(change_token.clone());
    app.gql(CONFIRM_EMAIL, json!({ "token": change_token }))
        .await
        .assert_ok();
    expected.push(ev("EMAIL_CHANGED", &me, None));

    // a password reset ends every session
    request_reset(&app, &new_email).await.assert_ok();
    let reset_token = mail_with(&sink, &new_email, "Reset your", 1).await;
    secrets.push(reset_token.clone());
    let reset_password = format!("Reset-{}", uuid::Uuid::new_v4().simple());
    secrets.push(reset_password.clone());
    app.gql(
        RESET,
        json!({ "token": reset_token, "newPassword": reset_password, "otp": null }),
    )
    .await
    .assert_ok();
    expected.push(ev("PASSWORD_RESET", &me, None));
    expected.push(ev("SESSION_REVOKED", &me, Some(&s1_id)));

    // logout of one session, then a lock, then logout of all
    let login_new = json!({ "username": alice.username, "password": reset_password });
    let s5 = app.login(login_new.clone()).await.assert_ok()["login"].clone();
    let s5_id = sid(&s5);
    secrets.push(str_field(&s5, "accessToken").to_owned());
    secrets.push(str_field(&s5, "refreshToken").to_owned());
    expected.push(ev("LOGIN_SUCCEEDED", &me, Some(&s5_id)));
    app.logout(str_field(&s5, "refreshToken")).await.assert_ok();
    expected.push(ev("LOGGED_OUT", &me, Some(&s5_id)));
    expected.push(ev("SESSION_REVOKED", &me, Some(&s5_id)));
    for attempt in ["wrong-password-2", "wrong-password-3"] {
        secrets.push(attempt.into());
        app.login(json!({ "username": alice.username, "password": attempt }))
            .await
            .assert_error("UNAUTHENTICATED", 401);
        expected.push(ev("LOGIN_FAILED", &me, None));
    }
    expected.push(ev("LOGIN_LOCKED", &me, None));
    // Refused while locked: changes nothing, writes nothing.
    app.login(login_new.clone())
        .await
        .assert_error("RATE_LIMITED", 429);
    app.clock.advance(Duration::from_secs(5));
    let s6 = app.login(login_new.clone()).await.assert_ok()["login"].clone();
    let s6_id = sid(&s6);
    secrets.push(str_field(&s6, "accessToken").to_owned());
    secrets.push(str_field(&s6, "refreshToken").to_owned());
    expected.push(ev("LOGIN_SUCCEEDED", &me, Some(&s6_id)));
    app.gql(
        LOGOUT_ALL,
        json!({ "refreshToken": str_field(&s6, "refreshToken") }),
    )
    .await
    .assert_ok();
    expected.push(ev("LOGGED_OUT", &me, Some(&s6_id)));
    expected.push(ev("SESSION_REVOKED", &me, Some(&s6_id)));

    // operators: a role, an app, an account made and deleted
    cli(
        &app,
        &[
            "user",
            "set-role",
            "--username",
            &alice.username,
            "--role",
            "admin",
        ],
        None,
    );
    expected.push(ev("ROLE_CHANGED", &me, None));
    let workdir = tempfile::tempdir().unwrap();
    let app_add = latchkey(app.database_url(), workdir.path())
        .args(["app", "add", "web", "--origin", "https://app.example.com"])
        .output()
        .unwrap();
    assert!(app_add.status.success(), "{}", stderr(&app_add));
    secrets.push(stdout(&app_add).lines().last().unwrap().trim().to_owned());
    expected.push(ev("APP_KEY_CREATED", &Value::Null, None));
    cli(&app, &["app", "delete", "web"], None);
    expected.push(ev("APP_KEY_REVOKED", &Value::Null, None));
    let bob = TestUser::generate();
    secrets.push(bob.password.clone());
    cli(
        &app,
        &["user", "add", "--username", &bob.username],
        Some(&bob.password),
    );
    cli(&app, &["user", "delete", "--username", &bob.username], None);

    // Act: the admin reads the whole log.
    let admin = app.login(login_new).await.assert_ok()["login"].clone();
    let admin_token = str_field(&admin, "accessToken").to_owned();
    secrets.push(admin_token.clone());
    secrets.push(str_field(&admin, "refreshToken").to_owned());
    let events = all_events(&app, &admin_token, json!(null)).await;

    // Assert: exactly the expected events, in order (bob's two by kind: his id is his own).
    let mut expected_shape = expected.clone();
    let bob_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "ACCOUNT_CREATED" || e["kind"] == "ACCOUNT_DELETED")
        .filter(|e| e["userId"] != me)
        .collect();
    assert_eq!(bob_events.len(), 2, "{events:#?}");
    let bob_id = bob_events[0]["userId"].clone();
    expected_shape.push(ev("ACCOUNT_CREATED", &bob_id, None));
    expected_shape.push(ev("ACCOUNT_DELETED", &bob_id, None));
    expected_shape.push(ev("LOGIN_SUCCEEDED", &me, Some(&sid(&admin))));
    assert_eq!(shape(&events), expected_shape, "{events:#?}");
    // The details that say why.
    let detail = |kind: &str, n: usize| {
        events.iter().filter(|e| e["kind"] == kind).nth(n).unwrap()["detail"].clone()
    };
    assert_eq!(
        detail("ACCOUNT_CREATED", 0),
        json!({ "by": "signup", "role": "user" })
    );
    assert_eq!(detail("LOGIN_FAILED", 0), json!({ "reason": "password" }));
    assert_eq!(
        detail("LOGIN_LOCKED", 0),
        json!({ "failures": 2, "lockedForSeconds": 1 })
    );
    assert_eq!(detail("SESSION_REVOKED", 0)["reason"], "revoked_by_user");
    assert_eq!(
        detail("SESSION_REVOKED", 1)["reason"],
        "refresh_token_reused"
    );
    assert_eq!(detail("SESSION_REVOKED", 2)["reason"], "password_changed");
    assert_eq!(detail("SESSION_REVOKED", 3)["reason"], "password_reset");
    assert_eq!(detail("SESSION_REVOKED", 4)["reason"], "logout");
    assert_eq!(detail("SESSION_REVOKED", 5)["reason"], "logout_all");
    assert_eq!(
        detail("PERSONAL_TOKEN_DELETED", 1)["reason"],
        "password_changed"
    );
    assert_eq!(
        detail("ROLE_CHANGED", 0),
        json!({ "from": "user", "to": "admin", "by": "operator" })
    );
    assert_eq!(detail("ACCOUNT_CREATED", 1)["by"], "operator");
    // Requests carry their client; operators' commands none.
    let login_event = events
        .iter()
        .find(|e| e["kind"] == "LOGIN_SUCCEEDED")
        .unwrap();
    assert_eq!(login_event["clientAddress"], "127.0.0.1");
    let role_event = events.iter().find(|e| e["kind"] == "ROLE_CHANGED").unwrap();
    assert_eq!(role_event["clientAddress"], Value::Null);
    // And the owner sees the same of their own, paging by 3.
    let mine = my_events(&app, &admin_token, 3).await;
    let own: Vec<_> = shape(&events)
        .into_iter()
        .filter(|(_, user, _)| *user == me)
        .collect();
    assert_eq!(shape(&mine), own);

    // No secret of the run in any column of any row, read from the API and the table.
    let store = latchkey_api::store::Store::connect(app.database_url())
        .await
        .unwrap();
    let rows = store.auth_events.after(0, 10_000).await.unwrap();
    assert_eq!(rows.len(), events.len());
    let everything = format!("{rows:?} {}", serde_json::to_string(&events).unwrap());
    // Ids and timestamps are digits too: a six-digit code is looked for in what a
    // request could have put there (detail, user agent, address) rather than everywhere.
    let written: Vec<_> = events
        .iter()
        .map(|e| (&e["detail"], &e["userAgent"], &e["clientAddress"]))
        .collect();
    let written = serde_json::to_string(&written).unwrap();
    assert!(secrets.len() > 30, "{}", secrets.len());
    for secret in &secrets {
        let haystack = if secret.bytes().all(|b| b.is_ascii_digit()) {
            &written
        } else {
            &everything
        };
        assert!(
            !haystack.contains(secret.as_str()),
            "a secret is in the event log: {secret}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_reads_only_its_own_events_and_only_admins_read_everyones() {
    // Arrange
    let app = TestApp::spawn().await;
    let (alice, alice_login) = app.signed_in_user().await;
    let (_bob, bob_login) = app.signed_in_user().await;
    let alice_token = str_field(&alice_login, "accessToken");
    let bob_token = str_field(&bob_login, "accessToken");
    let alice_id = alice_login["user"]["id"].clone();
    let bob_id = bob_login["user"]["id"].clone();
    let header = app
        .gql_with_token(alice_token, ADD_HEADER, json!({ "name": "script" }))
        .await;
    let personal = str_field(&header.assert_ok()["addAuthHeader"], "token").to_owned();

    // Act
    let alice_sees = my_events(&app, alice_token, 100).await;
    let by_personal_token = my_events(&app, &personal, 100).await;
    let bob_all = app
        .gql_with_token(
            bob_token,
            ALL_EVENTS,
            json!({ "filter": { "userId": alice_id } }),
        )
        .await;
    let anonymous = app.gql(MY_EVENTS, json!({})).await;
    let anonymous_all = app.gql(ALL_EVENTS, json!({})).await;
    cli(
        &app,
        &[
            "user",
            "set-role",
            "--username",
            &alice.username,
            "--role",
            "admin",
        ],
        None,
    );
    let admin_by_personal_token = app.gql_with_token(&personal, ALL_EVENTS, json!({})).await;
    let admin_filtered = all_events(
        &app,
        alice_token,
        json!({ "userId": bob_id, "kind": "LOGIN_SUCCEEDED" }),
    )
    .await;

    // Assert
    assert!(!alice_sees.is_empty());
    assert!(
        alice_sees.iter().all(|e| e["userId"] == alice_id),
        "{alice_sees:#?}"
    );
    assert_eq!(shape(&by_personal_token), shape(&alice_sees));
    bob_all.assert_error("FORBIDDEN", 403);
    anonymous.assert_error("UNAUTHENTICATED", 401);
    anonymous_all.assert_error("UNAUTHENTICATED", 401);
    admin_by_personal_token.assert_error("FORBIDDEN", 403);
    assert_eq!(
        shape(&admin_filtered),
        vec![ev("LOGIN_SUCCEEDED", &bob_id, Some(&sid(&bob_login)))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_bounded_and_cursors_are_checked() {
    // Arrange: six events (sign-up, login, and four failed logins... kept under the lock).
    let app = TestApp::spawn_with(|s| s.login_free_failures = 10).await;
    let (user, login) = app.signed_in_user().await;
    for _ in 0..4 {
        app.login(json!({ "username": user.username, "password": "not-the-password" }))
            .await
            .assert_error("UNAUTHENTICATED", 401);
    }
    let token = str_field(&login, "accessToken");
    let page = |first: Value, after: Value| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.gql_with_token(&token, MY_EVENTS, json!({ "first": first, "after": after }))
                .await
        }
    };

    // Act
    let first_page = page(json!(4), Value::Null).await;
    let end = first_page.assert_ok()["myAuthEvents"]["pageInfo"]["endCursor"].clone();
    let second_page = page(json!(4), end.clone()).await;
    let everything = page(Value::Null, Value::Null).await;
    let bad_sizes: Vec<GqlResponse> = futures_join(
        [0, -1, 101]
            .into_iter()
            .map(|n| page(json!(n), Value::Null)),
    )
    .await;
    let forged = page(json!(2), json!("ZXY6OTk5OTk5OTk5")).await;
    let garbage = page(json!(2), json!("not a cursor")).await;
    let foreign = page(json!(2), json!("MTIz")).await;

    // Assert
    let first = &first_page.assert_ok()["myAuthEvents"];
    assert_eq!(first["edges"].as_array().unwrap().len(), 4);
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(first["pageInfo"]["hasPreviousPage"], json!(false));
    assert_eq!(
        first["pageInfo"]["startCursor"],
        first["edges"][0]["cursor"]
    );
    assert_eq!(end, first["edges"][3]["cursor"]);
    let second = &second_page.assert_ok()["myAuthEvents"];
    assert_eq!(second["edges"].as_array().unwrap().len(), 2);
    assert_eq!(second["pageInfo"]["hasNextPage"], json!(false));
    let all = &everything.assert_ok()["myAuthEvents"]["edges"];
    assert_eq!(
        all.as_array().unwrap().len(),
        6,
        "default page of 20 holds all six"
    );
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(all[0]["node"]["kind"], "LOGIN_FAILED");
    assert_eq!(all[5]["node"]["kind"], "ACCOUNT_CREATED");
    for response in bad_sizes {
        response.assert_error("BAD_USER_INPUT", 400);
    }
    garbage.assert_error("BAD_USER_INPUT", 400);
    foreign.assert_error("BAD_USER_INPUT", 400);
    // A well-formed cursor past the end is no error: it just names an id beyond the log
    // (newest first, everything is "after" it), and can only narrow the owner's own list.
    let beyond = &forged.assert_ok()["myAuthEvents"]["edges"];
    assert!(beyond.as_array().unwrap().len() <= 2);
}

async fn futures_join<F: std::future::Future<Output = GqlResponse>>(
    futures: impl Iterator<Item = F>,
) -> Vec<GqlResponse> {
    let mut out = Vec::new();
    for future in futures {
        out.push(future.await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_older_than_event_retention_are_deleted_by_the_servers_clock() {
    // Arrange: an account with a few events, then the clock moved past retention.
    let app = TestApp::spawn_with(|s| s.event_retention = Duration::from_secs(2 * 3600)).await;
    let (user, _) = app.signed_in_user().await;
    let store = latchkey_api::store::Store::connect(app.database_url())
        .await
        .unwrap();
    let before = store.auth_events.after(0, 100).await.unwrap();
    assert_eq!(before.len(), 2, "{before:?}");
    app.clock.advance(Duration::from_secs(3 * 3600));

    // Act: the next event written makes the instance look (its hour has passed).
    let fresh = app.login_username(&user).await;

    // Assert: only the fresh login is left, once the background deletion ran.
    let mut left = Vec::new();
    for _ in 0..200 {
        left = store.auth_events.after(0, 100).await.unwrap();
        if left.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].kind_name, "LOGIN_SUCCEEDED");
    assert_eq!(left[0].session_id.map(|s| s.to_string()), Some(sid(&fresh)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_wherever_it_proves_the_owner_is_logged_as_a_failed_login() {
    // Arrange: enough free failures that none of the four guesses locks the account.
    let app = TestApp::spawn_with(|s| s.login_free_failures = 10).await;
    let (_alice, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    let me = login["user"]["id"].clone();
    let session = sid(&login);
    let guesses = [
        (
            "changePassword",
            CHANGE_PASSWORD,
            json!({ "input": { "currentPassword": "guess-one-1", "newPassword": "a fresh new passphrase" } }),
        ),
        (
            "reauthenticate",
            "mutation Re($password: String!) { reauthenticate(password: $password) { id } }",
            json!({ "password": "guess-two-2" }),
        ),
        (
            "stepUp",
            "mutation Add($name: String!, $password: String) { addAuthHeader(name: $name, password: $password) { token } }",
            json!({ "name": "script", "password": "guess-three-3" }),
        ),
        (
            "disableTotp",
            DISABLE_TOTP,
            json!({ "password": "guess-four-4", "otp": "123456" }),
        ),
    ];

    for (operation, document, variables) in guesses {
        // Act
        let refused = app.gql_with_token(token, document, variables).await;

        // Assert
        refused.assert_error("UNAUTHENTICATED", 401);
        let events = my_events(&app, token, 100).await;
        let last = events.last().unwrap();
        assert_eq!(
            shape(std::slice::from_ref(last)),
            vec![ev("LOGIN_FAILED", &me, Some(&session))],
            "after {operation}: {events:#?}"
        );
        assert_eq!(
            last["detail"],
            json!({ "reason": "password", "during": operation })
        );
    }
    let failed = my_events(&app, token, 100)
        .await
        .iter()
        .filter(|e| e["kind"] == "LOGIN_FAILED")
        .count();
    assert_eq!(failed, 4);
}
