//! Every type that holds a secret, formatted with `{:?}` as a log line would: none may
//! show the secret, or any recognisable part of it.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::accounts::account::Role;
use crate::auth::accounts::registration::RegisterRequest;
use crate::auth::apps::app::test_app;
use crate::auth::apps::management::CreatedApp;
use crate::auth::client::ClientMeta;
use crate::auth::known_devices::registry::DeviceCookie;
use crate::auth::passwords::change::ChangePasswordRequest;
use crate::auth::passwords::password::Password;
use crate::auth::personal_tokens::management::PersonalTokenRef;
use crate::auth::secret::{ExposeSecret as _, OpaqueSecret, SecretString};
use crate::auth::sessions::login::LoginRequest;
use crate::auth::sessions::logout::LogoutTarget;
use crate::auth::sessions::refresh_token::RefreshToken;
use crate::auth::sessions::token_mode::TokenMode;
use crate::auth::tokens::key_ring::KeyRecord;
use crate::auth::totp::key::TotpKey;
use crate::auth::totp::recovery_codes::RecoveryCode;
use crate::config::{BootstrapAdmin, Settings};
use crate::graphql::types::{
    AuthPayload, ChangePasswordInput, Credentials, LoginInput, RegisterInput, Secret, User,
};
use crate::graphql::{Credential, CredentialSource, IssuedTokens, RequestContext};

/// The secret every value below is made with: long and unlikely, so finding any 12
/// characters of it in the text means it leaked.
const SECRET: &str = "s3cr3t-Zq8Vw2Kp9Lm4Xr7Tn1Hd6Fb0Jc5";

/// A sealing key (`secret_key_file`), as its file holds it.
const SECRET_KEY_HEX: &str = "5ec2e7a1b0c9d8f7e6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3";

fn secret() -> SecretString {
    SECRET.into()
}

/// Fails if `debug` shows the secret, or any 12 consecutive characters of it.
fn assert_hides(what: &str, debug: String, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(12) {
        let part: String = window.iter().collect();
        assert!(!debug.contains(&part), "{what} shows its secret: {debug}");
    }
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

#[test]
fn secrets_in_the_domain_are_redacted() {
    let password = Password::presented(secret(), "password").unwrap();
    assert_hides("Password", format!("{password:?}"), SECRET);
    let login = LoginRequest {
        username: Some("alice".into()),
        email: None,
        password: secret(),
        otp: Some(secret()),
        passkey: None,
        mode: TokenMode::Json,
        client: ClientMeta::default(),
        device_cookie: Some(secret()),
    };
    assert_hides("LoginRequest", format!("{login:?}"), SECRET);
    let register = RegisterRequest {
        username: "alice".into(),
        email: None,
        password: secret(),
        firstname: None,
        lastname: None,
        role: Role::User,
    };
    assert_hides("RegisterRequest", format!("{register:?}"), SECRET);
    let change = ChangePasswordRequest {
        username: None,
        email: None,
        current_password: secret(),
        new_password: secret(),
        otp: Some(secret()),
        end_personal_tokens: true,
        client: ClientMeta::default(),
    };
    assert_hides("ChangePasswordRequest", format!("{change:?}"), SECRET);
    let logout = LogoutTarget::RefreshToken(secret());
    assert_hides("LogoutTarget", format!("{logout:?}"), SECRET);
    let delete = PersonalTokenRef::Token(secret());
    assert_hides("PersonalTokenRef", format!("{delete:?}"), SECRET);
}

#[test]
fn generated_secrets_are_redacted() {
    let opaque = OpaqueSecret::generate("lk_");
    assert_hides("OpaqueSecret", format!("{opaque:?}"), opaque.expose());
    let refresh = RefreshToken::generate();
    assert_hides("RefreshToken", format!("{refresh:?}"), refresh.expose());
    let code = RecoveryCode::generate();
    let shown = code.display();
    assert_hides("RecoveryCode", format!("{code:?}"), shown.expose_secret());
    let totp = TotpKey::generate("alice").unwrap();
    let base32 = totp.secret_base32();
    assert_hides("TotpKey", format!("{totp:?}"), base32.expose_secret());
    let key = KeyRecord::generate(at()).unwrap();
    let private = key.private_pkcs8_b64.expose_secret().to_owned();
    assert_hides("KeyRecord", format!("{key:?}"), &private);
    let sealing = crate::store::sealing::key::SealingKey::parse(&SECRET_KEY_HEX.into()).unwrap();
    assert_hides("SealingKey", format!("{sealing:?}"), SECRET_KEY_HEX);
    let sealer = crate::store::sealing::Sealer::with_key(sealing);
    assert_hides("Sealer", format!("{sealer:?}"), SECRET_KEY_HEX);
    let created = CreatedApp {
        app: test_app(&["https://a.example.com"], false),
        key: OpaqueSecret::generate("lka_"),
    };
    let key_text = created.key.expose().to_owned();
    assert_hides("CreatedApp", format!("{created:?}"), &key_text);
}

#[test]
fn stored_rows_are_redacted() {
    use latchkey_entity::{
        app, auth_header, refresh_token, signing_key, totp, totp_recovery_code, user,
    };
    let user = user::Model {
        id: Uuid::nil(),
        username: "alice".into(),
        username_key: "alice".into(),
        email: None,
        firstname: None,
        lastname: None,
        role: "user".into(),
        password_hash: SECRET.into(),
        password_changed_at: at(),
        created_at: at(),
        totp_enabled_at: None,
        email_verified_at: None,
    };
    assert_hides("user::Model", format!("{user:?}"), SECRET);
    let mail = latchkey_entity::mail_outbox::Model {
        id: Uuid::nil(),
        kind: "password_reset".into(),
        user_id: None,
        recipient: "a@example.com".into(),
        client_ip: None,
        status: "pending".into(),
        subject: None,
        body_text: Some(SECRET.into()),
        body_html: Some(SECRET.into()),
        attempts: 0,
        next_attempt_at: at(),
        claimed_until: None,
        claim_id: None,
        last_error: None,
        created_at: at(),
        sent_at: None,
    };
    assert_hides("mail_outbox::Model", format!("{mail:?}"), SECRET);
    let token = latchkey_entity::email_token::Model {
        token_hash: SECRET.into(),
        user_id: Uuid::nil(),
        purpose: "password_reset".into(),
        email: "a@example.com".into(),
        code_hash: Some(SECRET.into()),
        code_failures: 0,
        created_at: at(),
        expires_at: at(),
        used_at: None,
    };
    assert_hides("email_token::Model", format!("{token:?}"), SECRET);
    let totp = totp::Model {
        user_id: Uuid::nil(),
        secret: SECRET.into(),
        created_at: at(),
        enabled_at: None,
        last_used_step: None,
    };
    assert_hides("totp::Model", format!("{totp:?}"), SECRET);
    let key = signing_key::Model {
        kid: "kid".into(),
        algorithm: "EdDSA".into(),
        private_key: SECRET.into(),
        public_key: "public".into(),
        created_at: at(),
        retired_at: None,
    };
    assert_hides("signing_key::Model", format!("{key:?}"), SECRET);
    let token = refresh_token::Model {
        token_hash: SECRET.into(),
        session_id: Uuid::nil(),
        created_at: at(),
        superseded_at: Some(at()),
        successor_seed: Some(SECRET.into()),
    };
    assert_hides("refresh_token::Model", format!("{token:?}"), SECRET);
    let header = auth_header::Model {
        id: Uuid::nil(),
        user_id: Uuid::nil(),
        name: "ci".into(),
        token_hash: SECRET.into(),
        prefix: "lk_abcdefgh".into(),
        created_at: at(),
        last_used_at: None,
        expires_at: None,
    };
    assert_hides("auth_header::Model", format!("{header:?}"), SECRET);
    let app = app::Model {
        id: Uuid::nil(),
        name: "web".into(),
        key_hash: SECRET.into(),
        key_prefix: "lka_abcdefgh".into(),
        origins: String::new(),
        require_origin: false,
        created_at: at(),
    };
    assert_hides("app::Model", format!("{app:?}"), SECRET);
    let code = totp_recovery_code::Model {
        id: Uuid::nil(),
        user_id: Uuid::nil(),
        code_hash: SECRET.into(),
        created_at: at(),
        used_at: None,
    };
    assert_hides("totp_recovery_code::Model", format!("{code:?}"), SECRET);
    let opened_key = crate::store::keys::SigningKeyRow {
        kid: "kid".into(),
        private_key: secret(),
        public_key: "public".into(),
        created_at: at(),
        retired_at: None,
    };
    assert_hides("SigningKeyRow", format!("{opened_key:?}"), SECRET);
    let active: user::ActiveModel = user.into();
    assert_hides("user::ActiveModel", format!("{active:?}"), SECRET);
}

#[test]
fn secrets_at_the_edges_are_redacted() {
    let login = LoginInput {
        username: Some("alice".into()),
        email: None,
        password: Secret(secret()),
        otp: Some(Secret(secret())),
        passkey: None,
        mode: None,
    };
    assert_hides("LoginInput", format!("{login:?}"), SECRET);
    let register = RegisterInput {
        username: "alice".into(),
        email: None,
        password: Secret(secret()),
        firstname: None,
        lastname: None,
    };
    assert_hides("RegisterInput", format!("{register:?}"), SECRET);
    let change = ChangePasswordInput {
        username: None,
        email: None,
        current_password: Secret(secret()),
        new_password: Secret(secret()),
        otp: Some(Secret(secret())),
        end_personal_tokens: None,
    };
    assert_hides("ChangePasswordInput", format!("{change:?}"), SECRET);
    let user = User {
        id: async_graphql::ID("id".into()),
        username: "alice".into(),
        email: None,
        firstname: None,
        lastname: None,
        created: at().into(),
        password_expiration: None,
        totp_enabled: false,
        email_verified: false,
        role: crate::graphql::types::Role::User,
    };
    let payload = AuthPayload {
        access_token: Some(SECRET.into()),
        refresh_token: Some(SECRET.into()),
        token_type: "Bearer".into(),
        expires: 1,
        expires_at: at().into(),
        user,
        credentials: Credentials {
            identity_id: async_graphql::ID("id".into()),
            token: Some(SECRET.into()),
            refresh_token: Some(SECRET.into()),
        },
        password_expiration: None,
    };
    assert_hides("AuthPayload", format!("{payload:?}"), SECRET);
    let mut context = RequestContext::new(ClientMeta::default());
    context.credential = Some(Credential {
        token: secret(),
        source: CredentialSource::AuthorizationHeader,
    });
    context.refresh_cookie = Some(secret());
    context.device_cookie = Some(secret());
    assert_hides("RequestContext", format!("{context:?}"), SECRET);
    let issued = IssuedTokens {
        mode: TokenMode::Session,
        issued_at: at(),
        access_token: secret(),
        access_expires_at: at(),
        refresh_token: secret(),
        session_expires_at: at(),
        device: Some(DeviceCookie {
            token: secret(),
            expires_at: at(),
        }),
    };
    assert_hides("IssuedTokens", format!("{issued:?}"), SECRET);
    let mut settings = Settings::for_tests(format!("postgres://latchkey:{SECRET}@db/latchkey"));
    settings.admin = Some(BootstrapAdmin {
        username: "admin".into(),
        password: secret(),
    });
    assert_hides("Settings", format!("{settings:?}"), SECRET);
}
