//! An endpoint's signing secret, as the Standard Webhooks specification writes it:
//! `whsec_` then the base64 of 32 random bytes. The receiver keys its HMAC with the
//! decoded bytes.
//!
//! It is shown once, when the endpoint is added, and stored sealed (not hashed: every
//! delivery is signed with it). `Debug` prints none of it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

/// What every secret starts with.
pub const PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct SigningSecret(SecretString);

impl SigningSecret {
    pub fn generate() -> SigningSecret {
        let bytes: Zeroizing<[u8; SECRET_BYTES]> = Zeroizing::new(rand::random());
        SigningSecret(format!("{PREFIX}{}", STANDARD.encode(*bytes)).into())
    }

    /// The secret as stored; `None` if it is not a `whsec_` secret.
    pub fn parse(text: SecretString) -> Option<SigningSecret> {
        let secret = SigningSecret(text);
        secret.key_bytes().map(|_| secret)
    }

    /// The text shown to the operator and stored (sealed).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn as_secret(&self) -> &SecretString {
        &self.0
    }

    /// The HMAC key: the decoded bytes after the prefix.
    pub fn key_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        let body = self.0.expose_secret().strip_prefix(PREFIX)?;
        let bytes = STANDARD.decode(body).ok()?;
        (!bytes.is_empty()).then(|| Zeroizing::new(bytes))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_new_secret_is_whsec_and_32_random_bytes_and_debug_shows_none_of_it() {
        let secret = SigningSecret::generate();
        assert!(secret.expose().starts_with(PREFIX));
        assert_eq!(secret.key_bytes().unwrap().len(), 32);
        assert_ne!(secret.expose(), SigningSecret::generate().expose());
        let body = secret.expose().strip_prefix(PREFIX).unwrap();
        assert!(!format!("{secret:?}").contains(body));
        let again = SigningSecret::parse(secret.expose().into()).unwrap();
        assert_eq!(again.expose(), secret.expose());
        assert!(SigningSecret::parse("whsec_!!".into()).is_none());
        assert!(SigningSecret::parse("abc".into()).is_none());
    }
}
