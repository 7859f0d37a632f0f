//! Secrets sealed at rest (`secret_key_file`): with a key set, the private signing keys
//! and the TOTP secrets are stored encrypted, rows stored in the clear by a run without
//! the key are sealed at the next start, a database sealed by another key (or with no key
//! set) does not start, and `latchkey keys seal-init` / `seal-rotate` make and change the
//! key. The rows are read straight from the database, as a dump would show them.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use latchkey_api::config::Settings;
use latchkey_api::startup::Application;
use sea_orm::{ConnectionTrait as _, Database, Statement};
use serde_json::json;

use crate::cli::{latchkey, stderr, stdout};
use crate::helpers::{TestApp, jwt_part, str_field};
use crate::totp::{code_at, login_with_otp, with_totp_on};

/// What every sealed value starts with.
const SEALED: &str = "sealed:v1:";

/// A key file as `keys seal-init` writes it: 64 hex characters, the owner's alone.
pub fn key_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let hex = format!(
        "{}{}\n",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::write(&path, hex).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The `secret_key_file` a `TestApp` starts with, changeable between restarts.
#[derive(Clone, Default)]
struct KeySetting(Arc<Mutex<Option<PathBuf>>>);

impl KeySetting {
    fn with(path: Option<&Path>) -> Self {
        Self(Arc::new(Mutex::new(path.map(Path::to_path_buf))))
    }

    fn set(&self, path: Option<&Path>) {
        *self.0.lock().unwrap() = path.map(Path::to_path_buf);
    }

    fn configure(&self) -> impl Fn(&mut Settings) + Send + Sync + 'static {
        let setting = self.0.clone();
        move |settings: &mut Settings| {
            settings.secret_key_file = setting.lock().unwrap().clone();
        }
    }
}

/// `signing_keys` and `totp` as stored: `(kid, private_key)` and `(user id, secret)`.
struct RawRows {
    private_keys: Vec<(String, String)>,
    totp_secrets: Vec<(String, String)>,
}

async fn raw_rows(database_url: &str) -> RawRows {
    let db = Database::connect(database_url).await.unwrap();
    let backend = db.get_database_backend();
    let private_keys = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT kid, private_key FROM signing_keys",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "kid").unwrap(),
                row.try_get::<String>("", "private_key").unwrap(),
            )
        })
        .collect();
    let totp_secrets = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT user_id, secret FROM totp",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get::<uuid::Uuid>("", "user_id")
                    .unwrap()
                    .to_string(),
                row.try_get::<String>("", "secret").unwrap(),
            )
        })
        .collect();
    db.close().await.unwrap();
    RawRows {
        private_keys,
        totp_secrets,
    }
}

/// Runs an SQL statement on the app's database, as someone with write access to it would.
async fn execute(database_url: &str, sql: &str) {
    let db = Database::connect(database_url).await.unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

/// Starting a server on this database with this key: the error, if the start is refused.
async fn start_error(app: &TestApp, key: Option<&Path>) -> Option<String> {
    let mut settings = Settings::for_tests(app.database_url());
    settings.secret_key_file = key.map(Path::to_path_buf);
    Application::build_with_clock(settings, app.clock.clone())
        .await
        .err()
        .map(|e| format!("{e:#}"))
}

/// Asserts that every stored private key and TOTP secret is sealed, and that none of
/// `known` (secrets in the clear) appears in any stored value.
#[track_caller]
fn assert_all_sealed(rows: &RawRows, known: &[&str]) {
    assert!(!rows.private_keys.is_empty(), "no signing key stored");
    for (what, stored) in rows
        .private_keys
        .iter()
        .map(|(kid, stored)| (format!("signing key {kid}"), stored))
        .chain(
            rows.totp_secrets
                .iter()
                .map(|(user, stored)| (format!("TOTP secret of {user}"), stored)),
        )
    {
        assert!(
            stored.starts_with(SEALED),
            "{what} is stored in the clear: {stored}"
        );
        for secret in known {
            assert!(
                !stored.contains(secret),
                "{what} shows its secret: {stored}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_secret_key_no_private_key_or_totp_secret_is_stored_in_the_clear() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "secret.key");
    let app = TestApp::spawn_with(KeySetting::with(Some(&key)).configure()).await;

    // Act: a pending enrolment, then one confirmed.
    let (_, login) = app.signed_in_user().await;
    let pending = crate::totp::new_enrollment(&app, str_field(&login, "accessToken")).await;
    let pending_rows = raw_rows(app.database_url()).await;
    let enrolled = with_totp_on(&app).await;
    let rows = raw_rows(app.database_url()).await;

    // Assert
    assert_eq!(pending_rows.totp_secrets.len(), 1);
    assert_all_sealed(&pending_rows, &[&pending.0]);
    assert_eq!(rows.totp_secrets.len(), 2);
    assert_all_sealed(&rows, &[&pending.0, &enrolled.secret]);
    let key_id = rows.private_keys[0].1.split(':').nth(2).unwrap();
    assert_eq!(key_id.len(), 16, "the envelope names the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_login_and_token_signing_work_across_a_restart_with_sealed_secrets() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "secret.key");
    let mut app = TestApp::spawn_with(KeySetting::with(Some(&key)).configure()).await;
    let enrolled = with_totp_on(&app).await;
    let kid_before = str_field(&jwt_part(&enrolled.access_token, 0), "kid").to_owned();

    // Act
    app.restart().await;
    let me = app.me(Some(&enrolled.access_token)).await;
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    let login = login_with_otp(&app, &enrolled.user, Some(&code)).await;

    // Assert
    assert_eq!(me.assert_ok()["me"]["totpEnabled"], json!(true));
    let token = str_field(&login.assert_ok()["login"], "accessToken").to_owned();
    assert_eq!(str_field(&jwt_part(&token, 0), "kid"), kid_before);
    app.me(Some(&token)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_rows_from_a_run_without_the_key_are_sealed_on_the_next_start() {
    // Arrange: a run without a key stores the signing key and a TOTP secret as they are.
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "secret.key");
    let setting = KeySetting::default();
    let mut app = TestApp::spawn_with(setting.configure()).await;
    let enrolled = with_totp_on(&app).await;
    let plain = raw_rows(app.database_url()).await;
    let plain_private_key = plain.private_keys[0].1.clone();
    assert_eq!(
        plain.totp_secrets[0].1, enrolled.secret,
        "stored in the clear"
    );

    // Act
    setting.set(Some(&key));
    app.restart().await;
    let sealed = raw_rows(app.database_url()).await;
    app.restart().await;
    let sealed_again = raw_rows(app.database_url()).await;

    // Assert: sealed once; what was signed and enrolled before still works.
    assert_all_sealed(&sealed, &[&plain_private_key, &enrolled.secret]);
    assert_eq!(
        sealed.private_keys, sealed_again.private_keys,
        "sealed once"
    );
    assert_eq!(
        sealed.totp_secrets, sealed_again.totp_secrets,
        "sealed once"
    );
    app.me(Some(&enrolled.access_token)).await.assert_ok();
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    login_with_otp(&app, &enrolled.user, Some(&code))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_starting_together_on_plain_rows_both_start_and_seal_each_row_once() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "secret.key");
    let mut app = TestApp::spawn().await;
    let enrolled = with_totp_on(&app).await;
    app.stop().await;

    // Act
    let configure = KeySetting::with(Some(&key)).configure();
    let (one, two) = tokio::join!(
        app.another_instance_with(configure),
        app.another_instance_with(KeySetting::with(Some(&key)).configure()),
    );

    // Assert: both serve, and each row opens for both.
    assert_all_sealed(&raw_rows(app.database_url()).await, &[&enrolled.secret]);
    one.me(Some(&enrolled.access_token)).await.assert_ok();
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    login_with_otp(&two, &enrolled.user, Some(&code))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_totp_secret_copied_onto_another_account_opens_for_no_one() {
    // Arrange: two accounts with TOTP on; the attacker writes their own sealed secret
    // into the victim's row, hoping to log in with codes of their own.
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "secret.key");
    let app = TestApp::spawn_with(KeySetting::with(Some(&key)).configure()).await;
    let attacker = with_totp_on(&app).await;
    let victim = with_totp_on(&app).await;
    let rows = raw_rows(app.database_url()).await;
    let attacker_id = str_field(
        &app.me(Some(&attacker.access_token)).await.assert_ok()["me"],
        "id",
    )
    .to_owned();
    let attacker_sealed = &rows
        .totp_secrets
        .iter()
        .find(|(user, _)| *user == attacker_id)
        .unwrap()
        .1;
    execute(
        app.database_url(),
        &format!(
            "UPDATE totp SET secret = '{attacker_sealed}' WHERE secret <> '{attacker_sealed}'"
        ),
    )
    .await;

    // Act
    let attackers_code = code_at(&attacker.secret, attacker.confirmed_step + 1);
    let victims_code = code_at(&victim.secret, victim.confirmed_step + 1);
    let with_attackers_code = login_with_otp(&app, &victim.user, Some(&attackers_code)).await;
    let with_victims_code = login_with_otp(&app, &victim.user, Some(&victims_code)).await;

    // Assert: no code logs in to the tampered account, and the server says it is at fault.
    with_attackers_code.assert_error("INTERNAL_SERVER_ERROR", 500);
    with_victims_code.assert_error("INTERNAL_SERVER_ERROR", 500);
    assert_eq!(with_attackers_code.error_message(), "internal server error");
    let attackers_own = login_with_otp(&app, &attacker.user, Some(&attackers_code)).await;
    attackers_own.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_database_does_not_start_without_the_key_or_with_another_key() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "secret.key");
    let other = key_file(dir.path(), "other.key");
    let mut app = TestApp::spawn_with(KeySetting::with(Some(&key)).configure()).await;
    with_totp_on(&app).await;
    let rows = raw_rows(app.database_url()).await;
    let key_id = rows.private_keys[0].1.split(':').nth(2).unwrap().to_owned();
    app.stop().await;

    // Act
    let without = start_error(&app, None).await;
    let with_other = start_error(&app, Some(&other)).await;

    // Assert
    let without = without.expect("a start without the key is refused");
    assert!(
        without.contains("secret_key_file") && without.contains(&key_id),
        "{without}"
    );
    let with_other = with_other.expect("a start with another key is refused");
    assert!(
        with_other.contains("secret_key_file") && with_other.contains(&key_id),
        "{with_other}"
    );
    assert_eq!(
        start_error(&app, Some(&key)).await,
        None,
        "the right key starts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_key_file_others_can_read_or_that_is_no_key_stops_the_start() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let shared = key_file(dir.path(), "shared.key");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, "abc123\n").unwrap();
    std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
    let app = TestApp::spawn().await;

    // Act
    let shared_error = start_error(&app, Some(&shared)).await.expect("refused");
    let short_error = start_error(&app, Some(&short)).await.expect("refused");

    // Assert
    assert!(shared_error.contains("secret_key_file"), "{shared_error}");
    assert!(shared_error.contains("chmod 600"), "{shared_error}");
    assert!(
        shared_error.contains(&shared.display().to_string()),
        "{shared_error}"
    );
    assert!(short_error.contains("secret_key_file"), "{short_error}");
    assert!(short_error.contains("64 hexadecimal"), "{short_error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_init_writes_a_key_file_for_the_owner_alone_and_never_replaces_one() {
    // Arrange
    let workdir = tempfile::tempdir().unwrap();
    let out = workdir.path().join("secret.key");

    // Act
    let first = latchkey("sqlite::memory:", workdir.path())
        .args(["keys", "seal-init", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    let second = latchkey("sqlite::memory:", workdir.path())
        .args(["keys", "seal-init", "--out"])
        .arg(&out)
        .output()
        .unwrap();

    // Assert
    assert!(first.status.success(), "{}", stderr(&first));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let hex = written.trim_end();
    assert_eq!(hex.len(), 64, "{written:?}");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{written:?}");
    assert!(!stdout(&first).contains(hex), "the key is never printed");
    assert!(!second.status.success(), "{}", stdout(&second));
    assert!(
        stderr(&second).contains("already exists"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        written,
        "not replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seal_rotate_reseals_with_the_new_key_which_then_starts_while_the_old_one_is_refused() {
    // Arrange: a database sealed by the old key, every server stopped.
    let dir = tempfile::tempdir().unwrap();
    let old = key_file(dir.path(), "old.key");
    let new = dir.path().join("new.key");
    let setting = KeySetting::with(Some(&old));
    let mut app = TestApp::spawn_with(setting.configure()).await;
    let enrolled = with_totp_on(&app).await;
    let before = raw_rows(app.database_url()).await;
    app.stop().await;
    let init = latchkey(app.database_url(), dir.path())
        .args(["keys", "seal-init", "--out"])
        .arg(&new)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", stderr(&init));

    // Act
    let rotate = latchkey(app.database_url(), dir.path())
        .env("LATCHKEY_SECRET_KEY_FILE", &old)
        .args(["keys", "seal-rotate", "--new-key-file"])
        .arg(&new)
        .output()
        .unwrap();
    let after = raw_rows(app.database_url()).await;

    // Assert: every value changed key; the old key no longer starts, the new one does
    // and opens everything.
    assert!(rotate.status.success(), "{}", stderr(&rotate));
    let old_id = before.private_keys[0]
        .1
        .split(':')
        .nth(2)
        .unwrap()
        .to_owned();
    let new_id = after.private_keys[0]
        .1
        .split(':')
        .nth(2)
        .unwrap()
        .to_owned();
    assert_ne!(old_id, new_id);
    assert_all_sealed(&after, &[&enrolled.secret]);
    for (_, stored) in after.private_keys.iter().chain(&after.totp_secrets) {
        assert!(
            stored.starts_with(&format!("{SEALED}{new_id}:")),
            "{stored}"
        );
    }
    let refused = start_error(&app, Some(&old))
        .await
        .expect("the old key is refused");
    assert!(refused.contains(&new_id), "{refused}");
    setting.set(Some(&new));
    app.restart().await;
    app.me(Some(&enrolled.access_token)).await.assert_ok();
    let code = code_at(&enrolled.secret, enrolled.confirmed_step + 1);
    login_with_otp(&app, &enrolled.user, Some(&code))
        .await
        .assert_ok();
}
