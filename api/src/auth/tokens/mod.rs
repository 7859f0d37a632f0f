//! Access tokens: short-lived Ed25519 JWTs (RFC 9068 profile), the signing keys they are
//! made with (in the database or a key file), the JWKS that publishes them, and the cache
//! of tokens whose signature was already checked.

pub mod access_tokens;
pub mod authority;
pub mod claims;
mod jws;
pub mod key_ring;
pub mod key_source;
mod verified_cache;
