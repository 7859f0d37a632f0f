//! Secret settings read from files (`*_file`), through the real binary.

use crate::cli::{latchkey, stderr};
use crate::helpers::{TestApp, TestDatabase, TestUser};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_url_and_admin_password_come_from_files() {
    // Arrange: the secrets in files, with the line end an editor leaves.
    let database = TestDatabase::create().await;
    let workdir = tempfile::tempdir().unwrap();
    let url_file = workdir.path().join("database_url");
    std::fs::write(&url_file, format!("{}\n", database.url)).unwrap();
    let admin = TestUser::generate();
    let password_file = workdir.path().join("admin_password");
    std::fs::write(&password_file, format!("{}\n", admin.password)).unwrap();

    // Act: migrate with the URL from its file only.
    let migrate = latchkey("", workdir.path())
        .env_remove("DATABASE_URL")
        .env("LATCHKEY_DATABASE_URL_FILE", &url_file)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", stderr(&migrate));

    // ...and a server whose first admin's password is read from its file.
    let (url, username) = (url_file.clone(), admin.username.clone());
    let password_path = password_file.display().to_string();
    let app = TestApp::spawn_on(database, move |s| {
        let mut raw = latchkey_api::config::RawSettings {
            database_url_file: Some(url.display().to_string()),
            admin_username: Some(username.clone()),
            admin_password_file: Some(password_path.clone()),
            cookie_secure: false,
            bind: "127.0.0.1:0".into(),
            ..Default::default()
        };
        raw.mail_dir = std::env::temp_dir()
            .join("latchkey-test-mail")
            .display()
            .to_string();
        let from_files = latchkey_api::config::Settings::from_raw(raw).unwrap();
        s.admin = from_files.admin;
    })
    .await;

    // Assert: the admin logs in with the file's password, without its line end.
    let payload = app.login_username(&admin).await;
    assert_eq!(payload["user"]["role"], "ADMIN");
}

#[test]
fn a_value_and_its_file_together_or_an_unreadable_file_stop_the_start() {
    let workdir = tempfile::tempdir().unwrap();
    let secret = "postgres://u:hunter2-secret@db/x";
    let url_file = workdir.path().join("database_url");
    std::fs::write(&url_file, secret).unwrap();

    let both = latchkey("sqlite::memory:", workdir.path())
        .env("LATCHKEY_DATABASE_URL_FILE", &url_file)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!both.status.success());
    let message = stderr(&both);
    assert!(
        message.contains("database_url_file") && message.contains("`database_url`"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");

    let missing = workdir.path().join("no-such-file");
    let unreadable = latchkey("sqlite::memory:", workdir.path())
        .env_remove("DATABASE_URL")
        .env("LATCHKEY_ADMIN_USERNAME", "root")
        .env("LATCHKEY_ADMIN_PASSWORD_FILE", &missing)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!unreadable.status.success());
    let message = stderr(&unreadable);
    assert!(
        message.contains("admin_password_file") && message.contains("no-such-file"),
        "{message}"
    );
}
