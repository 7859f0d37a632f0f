//! The authentication domain: a folder per capability, no HTTP or GraphQL types anywhere.
//!
//! - [`accounts`]: who can log in (usernames, emails, roles, sign-up, operators' changes).
//! - [`passwords`]: the `Password` rules, argon2id hashing off the async workers, changing
//!   a password, and when one expires.
//! - [`tokens`]: access tokens (Ed25519 JWTs), the signing keys and the JWKS.
//! - [`sessions`]: login, refresh-token rotation, logout, a user's list of sessions, and the
//!   token delivery mode a session keeps.
//! - [`throttle`]: account locks after failed logins, per-address budgets.
//! - [`known_devices`]: device cookies, so an account's lock does not lock out its owner's
//!   own browsers.
//! - [`totp`]: the second factor: TOTP keys, enrolment, recovery codes.
//! - [`passkeys`]: WebAuthn credentials: registration, login (first factor, or in place
//!   of a one-time password), listing, renaming, deleting.
//! - [`personal_tokens`]: long-lived `lk_` tokens a user makes for scripts.
//! - [`apps`]: project API keys, their origins and the in-memory registry.
//! - [`events`]: the security event log and the bus its events are announced on.
//! - [`credential_cache`]: verified sessions and personal tokens kept in memory, and when
//!   they are forgotten.
//! - [`email`]: address verification, password reset and security notices (mail is
//!   written to the outbox here and delivered by `crate::mail`).
//! - [`webhooks`]: outbound webhook endpoints, their filters and signing secrets (events
//!   are delivered by `crate::webhooks`).
//!
//! Each capability keeps its state private and offers a small surface. [`Authenticator`]
//! (in `authenticator.rs`) is the one object the GraphQL layer calls: it holds one of
//! each capability, and the flows that span several (login checks the throttle, the
//! password, the second factor, then opens a session) live in the capability that owns
//! their outcome, as `impl Authenticator` blocks that use only those surfaces. Time comes
//! from a [`clock::Clock`]; the database only through [`crate::store`].

pub mod accounts;
pub mod apps;
pub mod authenticator;
mod bearer;
pub mod client;
pub mod clock;
pub mod credential_cache;
pub mod email;
pub mod error;
pub mod events;
pub mod known_devices;
pub mod passkeys;
pub mod passwords;
pub mod personal_tokens;
pub mod principal;
pub(crate) mod proof;
pub mod published_policy;
pub mod secret;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod webhooks;

pub use error::AuthError;
