//! The files that hold secrets (the SQLite database and its companions, the signing key
//! file) are the owner's alone, or the server does not start.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use latchkey_api::config::Settings;
use latchkey_api::startup::Application;

use crate::helpers::{TestApp, TestDatabase, TestUser};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_database_and_its_companions_are_created_for_the_owner_alone() {
    // Arrange: a database file that does not exist yet.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let app = TestApp::spawn_on(TestDatabase { url, dir: None }, |_| {}).await;

    // Act: writes, so the write-ahead log and its index exist.
    app.register(&TestUser::generate()).await;

    // Assert
    for file in ["new.db", "new.db-wal", "new.db-shm"] {
        assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_others_can_read_stops_the_start_naming_the_file_and_the_fix() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let settings = Settings::for_tests(format!("sqlite://{}?mode=rwc", path.display()));

    // Act
    let started = Application::build(settings).await;

    // Assert
    let error = format!("{:#}", started.err().expect("the start is refused"));
    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("chmod 600"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_others_can_read_stops_the_start_naming_the_setting_and_the_fix() {
    // Arrange: a good key, readable by everyone.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.pem");
    let made = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .status()
        .expect("openssl is installed");
    assert!(made.success());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let database = TestDatabase::create().await;
    let mut settings = Settings::for_tests(database.url.clone());
    settings.signing_key_file = Some(key.clone());

    // Act
    let started = Application::build(settings).await;

    // Assert
    let error = format!("{:#}", started.err().expect("the start is refused"));
    assert!(error.contains("signing_key_file"), "{error}");
    assert!(error.contains("chmod 600"), "{error}");
    assert!(!error.contains("BEGIN"), "{error}");
}
