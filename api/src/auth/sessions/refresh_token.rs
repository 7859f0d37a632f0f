//! Refresh tokens and the rule of rotation.
//!
//! A refresh token is 256 random bits, shown to the client once and stored only as its
//! SHA-256 (a slow hash buys nothing against 256 bits of entropy). Every `refresh`
//! supersedes the token presented and issues a successor. A superseded token presented
//! again within the grace window (two tabs refreshing at once) gets that same successor
//! back, never a sibling, so a session stays one chain that reuse detection can follow;
//! after the window it means the token leaked, and the whole session ends.
//!
//! The successor is derived, not stored: HMAC-SHA256 keyed by the presented token over a
//! random seed kept in the superseded token's row. Whoever presents the token again can
//! be given the same successor; the database alone (the seed and the token's hash) cannot
//! produce it.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

pub use crate::auth::secret::TokenHash;
use crate::auth::secret::{ExposeSecret as _, OpaqueSecret, SECRET_BYTES, SecretString};

/// Separates this use of HMAC from any other keyed by the same bytes.
const SUCCESSOR_CONTEXT: &[u8] = b"latchkey refresh successor v1\0";

/// A refresh token in the clear: an opaque secret with no type prefix (the format
/// clients already hold). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(OpaqueSecret);

impl RefreshToken {
    pub fn generate() -> RefreshToken {
        RefreshToken(OpaqueSecret::generate(""))
    }

    /// `None` for anything that cannot be one of ours, so it is not even looked up.
    pub fn parse(raw: &str) -> Option<RefreshToken> {
        OpaqueSecret::parse("", raw).map(RefreshToken)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn hash(&self) -> TokenHash {
        self.0.hash()
    }

    /// The token that succeeds this one under `seed`: the same for every call, so a
    /// replay within the grace window is answered with the successor already issued.
    pub fn successor(&self, seed: &SuccessorSeed) -> RefreshToken {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.expose().as_bytes()) else {
            // HMAC takes keys of any length; this arm cannot be reached.
            return RefreshToken::generate();
        };
        mac.update(SUCCESSOR_CONTEXT);
        mac.update(seed.0.expose_secret().as_bytes());
        let bytes: [u8; SECRET_BYTES] = mac.finalize().into_bytes().into();
        RefreshToken(OpaqueSecret::from_bytes("", bytes))
    }
}

/// The random input to a successor's derivation, kept (as hex) in the row of the token it
/// succeeds. `Debug` never shows it: with the token, it gives the successor.
pub struct SuccessorSeed(SecretString);

impl SuccessorSeed {
    pub fn generate() -> SuccessorSeed {
        let bytes: [u8; SECRET_BYTES] = rand::random();
        SuccessorSeed(SecretString::from(
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        ))
    }

    pub fn from_stored(hex: String) -> SuccessorSeed {
        SuccessorSeed(SecretString::from(hex))
    }

    /// The text the database keeps.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SuccessorSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SuccessorSeed([redacted])")
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

/// What presenting a known refresh token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// The token is live: supersede it and issue a successor.
    Current,
    /// Superseded moments ago (a concurrent refresh): answer with the same successor.
    WithinGrace,
    /// Superseded longer ago than the grace window: a replay. End the session.
    Reused,
}

/// Classifies a token by when (if ever) it was superseded. A zero grace window turns the
/// grace off: any second use is a reuse, even one racing the first at the same instant
/// (or, across instances, seemingly before it).
pub fn classify(
    superseded_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: Duration,
) -> Presented {
    let Some(superseded_at) = superseded_at else {
        return Presented::Current;
    };
    if grace.is_zero() {
        return Presented::Reused;
    }
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let age = now.signed_duration_since(superseded_at);
    if age <= grace {
        Presented::WithinGrace
    } else {
        Presented::Reused
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::auth::secret::SECRET_CHARS;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn generated_tokens_are_256_bit_and_parse_back() {
        let token = RefreshToken::generate();
        assert_eq!(token.expose().len(), SECRET_CHARS);
        assert_eq!(URL_SAFE_NO_PAD.decode(token.expose()).unwrap().len(), 32);
        assert_eq!(RefreshToken::parse(token.expose()), Some(token.clone()));
        assert_ne!(RefreshToken::generate(), token);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            &"é".repeat(22),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn rotation_classifies_by_time_since_superseded() {
        let grace = Duration::from_secs(10);
        assert_eq!(classify(None, at(0), grace), Presented::Current);
        assert_eq!(classify(Some(at(0)), at(10), grace), Presented::WithinGrace);
        assert_eq!(classify(Some(at(0)), at(11), grace), Presented::Reused);
        // A racer that read the clock just before the winner superseded the token.
        assert_eq!(classify(Some(at(1)), at(0), grace), Presented::WithinGrace);
    }

    #[test]
    fn without_a_grace_window_every_second_use_is_a_reuse() {
        for (superseded, now) in [(at(0), at(1)), (at(0), at(0)), (at(1), at(0))] {
            assert_eq!(
                classify(Some(superseded), now, Duration::ZERO),
                Presented::Reused,
                "superseded {superseded}, presented {now}"
            );
        }
    }

    #[test]
    fn a_successor_is_the_same_for_the_same_token_and_seed_and_nothing_else() {
        let token = RefreshToken::generate();
        let seed = SuccessorSeed::generate();
        let successor = token.successor(&seed);
        assert_eq!(
            token.successor(&SuccessorSeed::from_stored(seed.expose().to_owned())),
            successor
        );
        assert_eq!(
            RefreshToken::parse(successor.expose()),
            Some(successor.clone())
        );
        assert_ne!(successor, token);
        assert_ne!(token.successor(&SuccessorSeed::generate()), successor);
        assert_ne!(RefreshToken::generate().successor(&seed), successor);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = RefreshToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
