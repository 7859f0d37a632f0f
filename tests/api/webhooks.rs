//! Outbound webhooks: endpoints registered with the CLI (or the function it calls), events
//! delivered to a loopback receiver, signed per Standard Webhooks (verified with the
//! reference implementation), retried with backoff, surviving restarts, filtered by kind,
//! and delivered once when two instances share the database.

use std::collections::HashMap;
use std::time::Duration;

use latchkey_api::auth::clock::Clock as _;
use latchkey_api::auth::webhooks::management;
use latchkey_api::config::Settings;
use latchkey_api::store::Store;
use sea_orm::{ConnectionTrait as _, Database, Statement};
use serde_json::json;

use crate::cli::{latchkey, stderr, stdout};
use crate::helpers::{TestApp, TestUser, str_field};
use crate::webhook_receiver::{Received, Receiver};

const LOGIN: &str = "LOGIN_SUCCEEDED";
const LOGIN_FAILED: &str = "LOGIN_FAILED";
const LOGOUT: &str = "LOGGED_OUT";

/// Test settings for webhooks: loopback receivers allowed, a short poll.
fn configure(settings: &mut Settings) {
    settings.webhooks.allow_private_targets = true;
    settings.webhooks.poll_interval = Duration::from_millis(50);
}

/// An endpoint added with the binary, as an operator does; its id and secret.
fn add_with_cli(app: &TestApp, url: &str, events: &str) -> (String, String) {
    add_with_cli_env(app, url, events, &[])
}

fn add_with_cli_env(
    app: &TestApp,
    url: &str,
    events: &str,
    env: &[(&str, &std::path::Path)],
) -> (String, String) {
    let workdir = tempfile::tempdir().unwrap();
    let mut command = latchkey(app.database_url(), workdir.path());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .env("LATCHKEY_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
        .args(["webhook", "add", url, "--events", events])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("created webhook endpoint "))
        .unwrap_or_else(|| panic!("no id in {out}"))
        .to_owned();
    let secret = out.lines().last().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{out}");
    (id, secret)
}

/// An endpoint added with the function the CLI calls; its id and secret.
async fn add(app: &TestApp, url: &str, events: &str) -> (String, String) {
    let store = Store::connect(app.database_url()).await.unwrap();
    let created = management::add(&store.webhooks, url, events, true, app.clock.now())
        .await
        .unwrap();
    (
        created.endpoint.id.to_string(),
        created.secret.expose().to_owned(),
    )
}

/// Events the active endpoints still have to receive.
async fn backlog(app: &TestApp) -> u64 {
    let store = Store::connect(app.database_url()).await.unwrap();
    management::backlog(&store.webhooks)
        .await
        .unwrap()
        .pending_events
}

async fn wait_for_empty_backlog(app: &TestApp) {
    for _ in 0..800 {
        if backlog(app).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the webhook backlog never emptied: {}", backlog(app).await);
}

#[track_caller]
fn assert_verified(received: &[Received], secret: &str) {
    for r in received {
        r.verify(secret)
            .unwrap_or_else(|e| panic!("signature does not verify ({e}): {r:#?}"));
    }
}

#[tokio::test]
async fn a_login_and_a_logout_reach_the_receiver_signed_with_the_endpoints_secret() {
    let receiver = Receiver::start(0);
    let app = TestApp::spawn_with(configure).await;
    let (endpoint_id, secret) = add_with_cli(&app, &receiver.url, "all");
    let user = TestUser::generate();
    let registered = app.register(&user).await;
    let payload = app.login_username(&user).await;
    app.logout(str_field(&payload, "refreshToken"))
        .await
        .assert_ok();

    let received = receiver.wait_for_kinds(&[LOGIN, LOGOUT]).await;
    assert_verified(&received, &secret);
    let login = received.iter().find(|r| r.kind() == LOGIN).unwrap();
    let body = login.json();
    assert_eq!(body["data"]["kind"], LOGIN);
    assert_eq!(body["data"]["userId"], registered["id"]);
    assert_eq!(body["data"]["clientAddress"], "127.0.0.1");
    // The engine's `detail` column arrives as a JSON object, not as its text.
    assert!(body["data"]["detail"].is_object(), "{body}");
    assert!(
        body["data"]["occurredAt"].as_str().unwrap().ends_with('Z'),
        "{body}"
    );
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
    assert!(
        login
            .header("webhook-id")
            .starts_with(&format!("msg_{}_", endpoint_id.replace('-', ""))),
        "{login:#?}"
    );
    assert_eq!(login.header("content-type"), "application/json");
    // The signature is the server's alone: another secret does not verify it.
    let other = format!("whsec_{}", "A".repeat(43) + "=");
    assert!(login.verify(&other).is_err());
    // Nothing secret travels: not the password, not a token.
    for r in &received {
        let text = String::from_utf8_lossy(&r.body);
        for secret in [
            user.password.as_str(),
            str_field(&payload, "refreshToken"),
            str_field(&payload, "accessToken"),
            secret.as_str(),
        ] {
            assert!(!text.contains(secret), "a secret in {text}");
        }
    }
}

#[tokio::test]
async fn an_event_refused_twice_arrives_on_the_third_attempt_after_the_backoff() {
    let receiver = Receiver::start(2);
    let app = TestApp::spawn_with(configure).await;
    app.clock.stop();
    let (_, secret) = add(&app, &receiver.url, LOGIN).await;
    let user = TestUser::generate();
    app.register(&user).await;
    app.login_username(&user).await;

    receiver.wait_for(1).await;
    // No retry while the clock stands still: the backoff holds it back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    // 5 s then 10 s, each at most a fifth longer.
    app.clock.advance(Duration::from_secs(6));
    receiver.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2);
    app.clock.advance(Duration::from_secs(12));
    let received = receiver.wait_for(3).await;
    wait_for_empty_backlog(&app).await;

    let answered: Vec<u16> = received.iter().map(|r| r.answered).collect();
    assert_eq!(answered, [500, 500, 204]);
    let ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_verified(&received, &secret);
    let stamps: Vec<i64> = received
        .iter()
        .map(|r| r.header("webhook-timestamp").parse().unwrap())
        .collect();
    assert!(
        stamps[1] >= stamps[0] + 6 && stamps[2] >= stamps[1] + 12,
        "{stamps:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3, "nothing more after the 2xx");
}

#[tokio::test]
async fn an_event_not_yet_delivered_when_the_server_stops_is_delivered_by_the_next_one() {
    let receiver = Receiver::start(0);
    receiver.set_failing(true);
    let mut app = TestApp::spawn_with(configure).await;
    app.clock.stop();
    // Only logins: the first refused delivery and the accepted retry are one event.
    let (_, secret) = add(&app, &receiver.url, LOGIN).await;
    let user = TestUser::generate();
    app.register(&user).await;
    app.login_username(&user).await;
    receiver.wait_for(1).await;
    app.stop().await;

    receiver.set_failing(false);
    app.restart().await;
    app.clock.advance(Duration::from_secs(6));
    let accepted = receiver.wait_for_kinds(&[LOGIN]).await;
    wait_for_empty_backlog(&app).await;
    let received = receiver.received();
    assert_eq!(received[0].answered, 500);
    assert_eq!(
        accepted[0].header("webhook-id"),
        received[0].header("webhook-id"),
        "a retry after a restart is the same message"
    );
    assert_verified(&received, &secret);
}

#[tokio::test]
async fn an_endpoint_receives_only_the_kinds_it_asked_for() {
    let only_logins = Receiver::start(0);
    let everything = Receiver::start(0);
    let app = TestApp::spawn_with(configure).await;
    add_with_cli(&app, &only_logins.url, LOGIN);
    add_with_cli(&app, &everything.url, "all");
    let user = TestUser::generate();
    app.register(&user).await;
    let payload = app.login_username(&user).await;
    app.login(json!({ "username": user.username, "password": "wrong-password-1" }))
        .await;
    app.logout(str_field(&payload, "refreshToken"))
        .await
        .assert_ok();
    everything
        .wait_for_kinds(&[LOGIN, LOGIN_FAILED, LOGOUT])
        .await;
    wait_for_empty_backlog(&app).await;
    let kinds: Vec<String> = only_logins.received().iter().map(Received::kind).collect();
    assert_eq!(kinds, [LOGIN]);
}

#[tokio::test]
async fn three_instances_on_one_database_deliver_each_event_once() {
    let receivers: Vec<Receiver> = (0..3).map(|_| Receiver::start(0)).collect();
    // One instance records the events and delivers none of them...
    let writer = TestApp::spawn_with(|s| {
        configure(s);
        s.webhooks.worker = false;
    })
    .await;
    for receiver in &receivers {
        add(&writer, &receiver.url, "all").await;
    }
    for _ in 0..4 {
        let user = TestUser::generate();
        writer.register(&user).await;
        let payload = writer.login_username(&user).await;
        writer
            .logout(str_field(&payload, "refreshToken"))
            .await
            .assert_ok();
    }
    // Every event the engine recorded (an account, a login, a logout and whatever else
    // each of them records), for each of the three endpoints.
    let store = Store::connect(writer.database_url()).await.unwrap();
    let recorded = store.auth_events.after(0, 1000).await.unwrap().len() as u64;
    assert!(recorded >= 4 * 3, "{recorded}");
    let pending = backlog(&writer).await;
    assert_eq!(pending, 3 * recorded);
    // ...then three delivering instances start together and race for the same endpoints.
    let (first, second, third) = tokio::join!(
        writer.another_instance_with(configure),
        writer.another_instance_with(configure),
        writer.another_instance_with(configure),
    );
    wait_for_empty_backlog(&first).await;
    let mut total = 0;
    for receiver in &receivers {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in receiver.received() {
            *seen.entry(r.header("webhook-id").to_owned()).or_default() += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "delivered more than once: {twice:?}");
        total += seen.len();
    }
    assert_eq!(total as u64, pending);
    drop((second, third));
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled_and_enable_resumes_it() {
    let receiver = Receiver::start(0);
    receiver.set_failing(true);
    let app = TestApp::spawn_with(configure).await;
    app.clock.stop();
    let (id, _) = add(&app, &receiver.url, "all").await;
    let user = TestUser::generate();
    app.register(&user).await;
    app.login_username(&user).await;
    receiver.wait_for(1).await;
    app.clock.advance(Duration::from_secs(25 * 60 * 60));
    receiver.wait_for(2).await;
    let store = Store::connect(app.database_url()).await.unwrap();
    let mut status = String::new();
    for _ in 0..400 {
        status = management::list(&store.webhooks).await.unwrap()[0]
            .status
            .clone();
        if status == "disabled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status, "disabled");
    app.clock.advance(Duration::from_secs(2 * 60 * 60));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "a disabled endpoint gets nothing"
    );

    receiver.set_failing(false);
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey(app.database_url(), workdir.path())
        .args(["webhook", "enable", &id])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    receiver.wait_for_kinds(&[LOGIN]).await;
    wait_for_empty_backlog(&app).await;
}

#[tokio::test]
async fn the_cli_refuses_bad_urls_and_kinds_lists_without_the_secret_and_removes() {
    let app = TestApp::spawn_with(configure).await;
    let workdir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        latchkey(app.database_url(), workdir.path())
            .args(args)
            .output()
            .unwrap()
    };
    for (url, events, why) in [
        (
            "http://127.0.0.1:9/x",
            "all",
            "webhook_allow_private_targets",
        ),
        ("http://169.254.169.254/", "all", "non-public"),
        ("ftp://example.com/", "all", "only http"),
        ("https://user:pw@example.com/", "all", "credentials"),
        ("https://example.com/", "NOT-A-KIND", "unknown event kind"),
        // Well-formed but not one of the engine's kinds.
        ("https://example.com/", "NOT_A_KIND", "unknown event kind"),
        ("https://example.com/", "", "at least one"),
    ] {
        let output = run(&["webhook", "add", url, "--events", events]);
        assert!(!output.status.success(), "{url} {events}");
        let err = stderr(&output);
        assert!(err.contains(why), "{url} {events}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let output = run(&[
        "webhook",
        "add",
        "https://hooks.example.com/in",
        "--events",
        "all",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let secret = out.lines().last().unwrap();
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("created webhook endpoint "))
        .unwrap();
    let listed = stdout(&run(&["webhook", "list"]));
    assert!(listed.contains(id) && listed.contains("https://hooks.example.com/in"));
    assert!(
        !listed.contains(secret.trim_start_matches("whsec_")),
        "{listed}"
    );

    let removed = run(&["webhook", "remove", id]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert!(!stdout(&run(&["webhook", "list"])).contains(id));
    let again = run(&["webhook", "remove", id]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no webhook endpoint"),
        "{}",
        stderr(&again)
    );
    let garbage = run(&["webhook", "remove", "'; DROP TABLE webhook_endpoints; --"]);
    assert!(!garbage.status.success());
    assert!(stderr(&garbage).contains("no webhook endpoint"));
}

#[tokio::test]
async fn with_a_secret_key_the_signing_secret_is_stored_sealed_and_still_signs() {
    let receiver = Receiver::start(0);
    let dir = tempfile::tempdir().unwrap();
    let key = crate::sealed_secrets::key_file(dir.path(), "secret.key");
    let key_setting = key.clone();
    let app = TestApp::spawn_with(move |s| {
        configure(s);
        s.secret_key_file = Some(key_setting.clone());
    })
    .await;
    let (_, secret) = add_with_cli_env(
        &app,
        &receiver.url,
        "all",
        &[("LATCHKEY_SECRET_KEY_FILE", key.as_path())],
    );
    let db = Database::connect(app.database_url()).await.unwrap();
    let stored: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT secret FROM webhook_endpoints",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "secret").unwrap())
        .collect();
    db.close().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("sealed:v1:"), "{stored:?}");
    assert!(!stored[0].contains(secret.trim_start_matches("whsec_")));

    let user = TestUser::generate();
    app.register(&user).await;
    app.login_username(&user).await;
    let received = receiver.wait_for_kinds(&[LOGIN]).await;
    assert_verified(&received, &secret);
}

#[tokio::test]
async fn a_private_target_is_refused_at_delivery_when_the_server_does_not_allow_them() {
    let receiver = Receiver::start(0);
    // The endpoint was added while private targets were allowed (or the setting was
    // turned off since): the server checks again at every delivery.
    let app = TestApp::spawn_with(|s| {
        configure(s);
        s.webhooks.allow_private_targets = false;
    })
    .await;
    add(&app, &receiver.url, "all").await;
    let user = TestUser::generate();
    app.register(&user).await;
    let store = Store::connect(app.database_url()).await.unwrap();
    let mut last_error = None;
    for _ in 0..400 {
        last_error = management::list(&store.webhooks).await.unwrap()[0]
            .last_error
            .clone();
        if last_error.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let last_error = last_error.expect("the delivery failed");
    assert!(
        last_error.contains("webhook_allow_private_targets"),
        "{last_error}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let target = Receiver::start(0);
    let redirecting = Receiver::start_redirecting(&target.url);
    let app = TestApp::spawn_with(configure).await;
    add(&app, &redirecting.url, LOGIN).await;
    let user = TestUser::generate();
    app.register(&user).await;
    app.login_username(&user).await;
    redirecting.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(target.received().is_empty(), "the redirect was followed");
    assert_eq!(backlog(&app).await, 1, "a 3xx does not deliver");
}
