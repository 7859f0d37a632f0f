//! Signing keys: `latchkey keys rotate` / `keys list`, instances sharing a database picking up
//! a rotation, the JWKS following it, and a key file configured instead of the database.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use latchkey_api::config::Settings;
use latchkey_api::startup::Application;
use serde_json::Value;

use crate::cli::{latchkey, stderr, stdout};
use crate::helpers::{TestApp, jwt_part, str_field};

fn kid_of(payload: &Value) -> String {
    str_field(&jwt_part(str_field(payload, "accessToken"), 0), "kid").to_owned()
}

async fn jwks_kids(app: &TestApp) -> BTreeSet<String> {
    let jwks = app.get("/.well-known/jwks.json", &[]).await;
    jwks.body["keys"]
        .as_array()
        .expect("a key set")
        .iter()
        .map(|key| str_field(key, "kid").to_owned())
        .collect()
}

/// Runs `latchkey keys <args>` against the app's database; its standard output.
fn keys_command(app: &TestApp, args: &[&str]) -> String {
    let workdir = tempfile::tempdir().unwrap();
    let output = latchkey(app.database_url(), workdir.path())
        .arg("keys")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_switches_the_signer_while_tokens_of_the_old_key_keep_working() {
    // Arrange: a running instance and a token signed by the first key.
    let app = TestApp::spawn().await;
    let (user, before) = app.signed_in_user().await;
    let old_kid = kid_of(&before);

    // Act: rotate from the command line, then start another instance.
    let printed = keys_command(&app, &["rotate"]);
    let other = app.another_instance().await;
    let after = other.login_username(&user).await;

    // Assert: the new instance signs with the new key, announced by the command.
    let new_kid = kid_of(&after);
    assert_ne!(new_kid, old_kid);
    assert!(
        printed.starts_with(&format!("{new_kid}  signer")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("{old_kid}  retired")),
        "{printed}"
    );
    // Both keys verify everywhere: the first instance re-reads the keys when it meets
    // the unknown `kid`, without a restart.
    for instance in [&app, &other] {
        for payload in [&before, &after] {
            instance
                .me(Some(str_field(payload, "accessToken")))
                .await
                .assert_ok();
        }
        assert_eq!(
            jwks_kids(instance).await,
            BTreeSet::from([old_kid.clone(), new_kid.clone()])
        );
    }
    // Having re-read the keys, the first instance signs with the new key too.
    assert_eq!(kid_of(&app.login_username(&user).await), new_kid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_list_prints_one_key_a_line_newest_first_with_the_signer_marked() {
    // Arrange
    let app = TestApp::spawn().await;
    let (_, login) = app.signed_in_user().await;
    let first_kid = kid_of(&login);
    keys_command(&app, &["rotate"]);

    // Act
    let listed = keys_command(&app, &["list"]);

    // Assert
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].contains("  signer  created "), "{listed}");
    assert!(
        lines[1].starts_with(&format!("{first_kid}  verifies until ")),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_a_forged_kid_does_not_make_the_server_fail() {
    // Arrange: a real token whose header names a key nobody has.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let (_, login) = app.signed_in_user().await;
    let token = str_field(&login, "accessToken");
    let (_, rest) = token.split_once('.').unwrap();
    let header = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"EdDSA","typ":"at+jwt","kid":"no-such-key"}"#)
    };

    // Act: many at once, each asking for a re-read of the keys.
    let forged = format!("{header}.{rest}");
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let (app, forged) = (app.clone(), forged.clone());
            tokio::spawn(async move { app.me(Some(&forged)).await })
        })
        .collect();

    // Assert
    for racer in racers {
        racer.await.unwrap().assert_error("UNAUTHENTICATED", 401);
    }
    app.me(Some(token)).await.assert_ok();
}

/// An Ed25519 key written by `openssl genpkey`, as an operator would make one.
fn openssl_key(dir: &Path) -> PathBuf {
    let path = dir.join("signing.pem");
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&path)
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_key_file_signs_every_token_and_is_the_only_key_published() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let key_file = openssl_key(dir.path());
    let configured = key_file.clone();
    let mut app = TestApp::spawn_with(move |s| s.signing_key_file = Some(configured.clone())).await;

    // Act
    let (user, login) = app.signed_in_user().await;
    app.restart().await;

    // Assert: the same key across the restart, alone in the JWKS, and never in the database.
    let kid = kid_of(&login);
    assert_eq!(jwks_kids(&app).await, BTreeSet::from([kid.clone()]));
    app.me(Some(str_field(&login, "accessToken")))
        .await
        .assert_ok();
    assert_eq!(kid_of(&app.login_username(&user).await), kid);
    let workdir = tempfile::tempdir().unwrap();
    let rotate = latchkey(app.database_url(), workdir.path())
        .env("LATCHKEY_SIGNING_KEY_FILE", &key_file)
        .args(["keys", "rotate"])
        .output()
        .unwrap();
    assert!(!rotate.status.success());
    assert!(
        stderr(&rotate).contains("signing_key_file"),
        "{}",
        stderr(&rotate)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_that_is_not_an_ed25519_key_stops_the_start_naming_the_setting() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("key.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let database = crate::helpers::TestDatabase::create().await;
    for path in [not_a_key, dir.path().join("missing.pem")] {
        let mut settings = Settings::for_tests(database.url.clone());
        settings.signing_key_file = Some(path.clone());

        // Act
        let started = Application::build(settings).await;

        // Assert
        let error = format!("{:#}", started.err().expect("the start is refused"));
        assert!(error.contains("signing_key_file"), "{error}");
        assert!(
            !error.contains("BEGIN"),
            "the key file's content is not echoed: {error}"
        );
    }
}
