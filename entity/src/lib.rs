//! SeaORM entities for Latchkey, one file per table.
//!
//! These rows are storage, not API: nothing here derives a GraphQL type, so a password
//! hash or a token hash can never be published by accident, and every such column is a
//! [`sensitive::SensitiveText`], whose `Debug` prints nothing of it. Only `latchkey-api`'s
//! `store` module uses them.

pub mod app;
pub mod auth_event;
pub mod auth_header;
pub mod email_token;
pub mod known_device;
pub mod login_throttle;
pub mod mail_outbox;
pub mod passkey;
pub mod refresh_token;
pub mod sensitive;
pub mod session;
pub mod signing_key;
pub mod totp;
pub mod totp_recovery_code;
pub mod user;
pub mod webauthn_challenge;
pub mod webhook_endpoint;
