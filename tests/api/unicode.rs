//! Passwords compared in NFKC and emails in NFC (NIST SP 800-63B 5.1.1.2): one password or
//! one address typed on two systems is one.

use argon2::password_hash::{PasswordHasher as _, SaltString};
use serde_json::json;

use crate::helpers::{TestApp, TestUser, str_field};

/// A password with a ligature, full-width letters and a decomposed accent, and what NFKC
/// makes of it.
const TYPED: &str = "\u{fb01}ne \u{ff50}\u{ff41}\u{ff53}\u{ff53} cafe\u{301} 42";
const NORMALISED: &str = "fine pass café 42";

fn login_input(user: &TestUser, password: &str) -> serde_json::Value {
    json!({ "username": user.username, "password": password })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_typed_in_another_unicode_form_is_the_same_password() {
    // Arrange
    let app = TestApp::spawn().await;
    let user = TestUser {
        password: TYPED.to_owned(),
        ..TestUser::generate()
    };
    app.register(&user).await;

    // Act
    let typed = app.login(login_input(&user, TYPED)).await;
    let normalised = app.login(login_input(&user, NORMALISED)).await;

    // Assert
    typed.assert_ok();
    normalised.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_made_before_normalisation_still_logs_in_and_is_replaced() {
    // Arrange: an account whose stored hash was made from the password as typed, as
    // before passwords were normalised.
    let app = TestApp::spawn().await;
    let user = TestUser {
        password: TYPED.to_owned(),
        ..TestUser::generate()
    };
    let registered = app.register(&user).await;
    let id: uuid::Uuid = str_field(&registered, "id").parse().unwrap();
    let store = latchkey_api::store::Store::connect(app.database_url())
        .await
        .unwrap();
    let row = store.users.find(id).await.unwrap().unwrap();
    let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
    let legacy = argon2::Argon2::default()
        .hash_password(TYPED.as_bytes(), &salt)
        .unwrap()
        .to_string();
    store
        .users
        .upgrade_password_hash(id, row.password_hash.expose(), legacy.clone())
        .await
        .unwrap();
    let stored = store.users.find(id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash.expose(), legacy);
    app.login(login_input(&user, NORMALISED))
        .await
        .assert_error("UNAUTHENTICATED", 401);

    // Act
    let response = app.login(login_input(&user, TYPED)).await;

    // Assert: it logged in, and the hash now holds the normalised form.
    response.assert_ok();
    let rehashed = store.users.find(id).await.unwrap().unwrap();
    assert_ne!(rehashed.password_hash.expose(), legacy);
    app.login(login_input(&user, NORMALISED)).await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_spellings_of_one_email_are_one_account() {
    // Arrange: registered with a decomposed `é`.
    let app = TestApp::spawn().await;
    let local = format!(
        "jose\u{301}.{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let first = TestUser {
        email: format!("{local}@example.com"),
        ..TestUser::generate()
    };
    app.register(&first).await;
    let composed = format!("{}@example.com", local.replace("e\u{301}", "\u{e9}"));

    // Act: the same address, precomposed and in capitals.
    let second = TestUser {
        email: composed.to_uppercase(),
        ..TestUser::generate()
    };
    let conflict = app.register_response(&second).await;
    let login = app
        .login(json!({ "email": composed, "password": first.password }))
        .await;

    // Assert
    conflict.assert_error("CONFLICT", 409);
    assert_eq!(
        login.assert_ok()["login"]["user"]["username"],
        json!(first.username)
    );
}
