//! Passkeys (WebAuthn): registering one, logging in with one (as the first factor, or in
//! place of a one-time password as the second), and managing an account's passkeys.
//!
//! Every ceremony has two calls. Its start keeps webauthn-rs's state in a single-use row
//! (`ceremony`), keyed by the challenge the browser signs, bound to the ceremony and,
//! where known, the account; its finish takes that row with one conditional DELETE, so a
//! response is accepted at most once however many instances race for it. Checking the
//! response (origin, RP id hash, signature, user verification, counter, backup flags) is
//! webauthn-rs's job (`relying_party`): no CBOR, COSE or attestation is parsed here.

pub mod ceremony;
pub mod login;
pub mod management;
pub mod models;
pub mod registration;
pub mod relying_party;
pub mod second_factor;
pub mod signup;
pub mod stored;

pub use relying_party::RelyingParty;
