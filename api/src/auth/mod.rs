//! The authentication domain: accounts, passwords, access tokens and signing keys,
//! login sessions and their refresh tokens.
//!
//! Nothing here knows about HTTP or GraphQL. [`service::Authenticator`] is the one entry
//! point the GraphQL layer calls; it takes `now` from a [`clock::Clock`] and talks to the
//! database only through [`crate::store`].

pub mod access;
pub mod account;
pub mod accounts;
pub mod app_registry;
pub mod apps;
mod argon2_phc;
pub mod attempts;
pub mod clock;
pub mod error;
mod jws;
pub mod keys;
pub mod login;
pub mod origin;
pub mod password;
pub mod password_change;
pub mod password_policy;
pub mod personal_tokens;
pub mod principal;
pub mod published_policy;
pub mod recovery_codes;
pub mod refresh;
pub mod rotation;
pub mod secret;
pub mod service;
pub mod sessions;
pub mod signing;
pub mod throttle;
pub mod totp;
pub mod totp_key;
pub mod values;
mod verified_tokens;

pub use error::AuthError;
