//! Secrets in memory, and opaque bearer secrets: refresh tokens, personal auth-header
//! tokens (`lk_`) and project API keys (`lka_`).
//!
//! Every secret the server handles travels as a [`SecretString`] (from `secrecy`), from
//! the GraphQL input inward: its `Debug` prints none of it, it is read only through an
//! explicit `expose_secret()`, and its memory is zeroed when it is dropped.
//!
//! Each is 256 random bits in base64url behind its type prefix, shown once and stored only
//! as its SHA-256: a slow hash buys nothing against 256 bits of entropy, and a fast one
//! lets the database find a row by an index on the hash. The prefix tells the kinds apart
//! at a glance (and to secret scanners), and its first characters identify a token in a
//! listing without revealing it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Bytes of randomness in a secret.
pub const SECRET_BYTES: usize = 32;
/// Length of a secret's base64url text, after its prefix.
pub const SECRET_CHARS: usize = 43;
/// Characters after the type prefix that a listing shows.
const SHOWN_CHARS: usize = 8;

/// A secret in the clear, with its type prefix. `Debug` never shows it; equality is
/// constant-time.
#[derive(Clone)]
pub struct OpaqueSecret(SecretString);

impl PartialEq for OpaqueSecret {
    fn eq(&self, other: &Self) -> bool {
        self.expose()
            .as_bytes()
            .ct_eq(other.expose().as_bytes())
            .into()
    }
}

impl Eq for OpaqueSecret {}

impl OpaqueSecret {
    pub fn generate(prefix: &str) -> OpaqueSecret {
        OpaqueSecret::from_bytes(prefix, rand::random())
    }

    /// The secret whose 256 bits are `bytes`: for secrets derived from others.
    pub fn from_bytes(prefix: &str, bytes: [u8; SECRET_BYTES]) -> OpaqueSecret {
        OpaqueSecret(SecretString::from(format!(
            "{prefix}{}",
            URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    /// `None` for anything that cannot be a secret of this kind, so it is not even looked up.
    pub fn parse(prefix: &str, raw: &str) -> Option<OpaqueSecret> {
        let body = raw.strip_prefix(prefix)?;
        let well_formed = body.len() == SECRET_CHARS
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| OpaqueSecret(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.expose())
    }

    /// The type prefix and the first few characters: enough to recognise the secret in a
    /// list, far too few to guess the rest.
    pub fn shown_prefix(&self, prefix: &str) -> String {
        let body = self.expose().strip_prefix(prefix).unwrap_or(self.expose());
        let shown: String = body.chars().take(SHOWN_CHARS).collect();
        format!("{prefix}{shown}")
    }
}

impl fmt::Debug for OpaqueSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpaqueSecret([redacted])")
    }
}

/// Hex SHA-256 of a secret: what the database keeps and looks up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(secret: &str) -> TokenHash {
        let digest = Sha256::digest(secret.as_bytes());
        TokenHash(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn from_stored(hex: String) -> TokenHash {
        TokenHash(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time equality, for checking a row found by hash against the secret's hash.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_secrets_carry_their_prefix_and_256_bits_and_parse_back() {
        let secret = OpaqueSecret::generate("lk_");
        let body = secret.expose().strip_prefix("lk_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
        assert_eq!(
            OpaqueSecret::parse("lk_", secret.expose()),
            Some(secret.clone())
        );
        assert_eq!(OpaqueSecret::parse("lka_", secret.expose()), None);
        assert_ne!(OpaqueSecret::generate("lk_"), secret);
    }

    #[test]
    fn malformed_secrets_do_not_parse() {
        for bad in [
            "",
            "lk_",
            "lk_short",
            &format!("lk_{}", "a".repeat(44)),
            &format!("lk_{}=", "a".repeat(42)),
            &format!("lk_{}", "é".repeat(21)),
            &"a".repeat(43),
        ] {
            assert!(OpaqueSecret::parse("lk_", bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_shown_prefix_is_the_type_and_eight_characters() {
        let secret = OpaqueSecret::generate("lk_");
        let shown = secret.shown_prefix("lk_");
        assert_eq!(shown.len(), 3 + 8);
        assert!(secret.expose().starts_with(&shown));
    }

    #[test]
    fn hashes_are_hex_sha256_and_compare_in_constant_time() {
        let hash = TokenHash::of("abc");
        assert_eq!(
            hash.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(hash.matches(&TokenHash::from_stored(hash.as_str().to_owned())));
        assert!(!hash.matches(&TokenHash::of("abd")));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = OpaqueSecret::generate("lk_");
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }
}
