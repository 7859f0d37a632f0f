//! Access tokens whose signature this instance has already checked.
//!
//! An Ed25519 signature check is the largest cost of an authenticated request (see the
//! profile in bench/README.md), and a client presents the same token for its whole life. So a token that verified is remembered, with its
//! claims, until the key ring is replaced (`AccessTokens` keeps one cache per ring);
//! presented again, only its expiry is judged anew. Like Envoy's JWT cache, this trades a little memory for the
//! signature check; unlike a session cache it changes nothing about revocation, which
//! is checked on every request after this.
//!
//! Entries are keyed by the SHA-256 of the token, not the token: a lookup then compares
//! digests, whose timing tells nothing about any token, and no token is kept in memory
//! beyond the request that carried it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest as _, Sha256};

use super::claims::AccessTokenClaims;

/// Tokens remembered at most. When full the cache is emptied and refills with the tokens
/// in use; an entry is a digest and a few claims, so this bounds it to a few MiB.
const CAPACITY: usize = 10_000;

type TokenDigest = [u8; 32];

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<TokenDigest, AccessTokenClaims>>,
}

/// A token's identity in the cache.
pub struct TokenKey(TokenDigest);

impl TokenKey {
    pub fn of(token: &str) -> TokenKey {
        TokenKey(Sha256::digest(token.as_bytes()).into())
    }
}

impl VerifiedTokens {
    /// The claims of a token verified before, if it is remembered.
    pub fn get(&self, key: &TokenKey) -> Option<AccessTokenClaims> {
        self.lock().get(&key.0).cloned()
    }

    /// Remembers a token whose signature, algorithm, type, issuer and audience checked.
    pub fn insert(&self, key: TokenKey, claims: AccessTokenClaims) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key.0, claims);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenDigest, AccessTokenClaims>> {
        // Every operation leaves the map whole; a panic elsewhere means nothing here.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use uuid::Uuid;

    use super::*;

    fn claims(exp: i64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "latchkey".into(),
            aud: "latchkey".into(),
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            iat: exp - 900,
            exp,
            jti: Uuid::new_v4(),
        }
    }

    #[test]
    fn a_remembered_token_gives_its_claims_and_no_other_token_does() {
        let cache = VerifiedTokens::default();
        let remembered = claims(1_000);
        cache.insert(TokenKey::of("a.b.c"), remembered.clone());
        assert_eq!(cache.get(&TokenKey::of("a.b.c")), Some(remembered));
        assert_eq!(cache.get(&TokenKey::of("a.b.d")), None);
        assert_eq!(cache.get(&TokenKey::of("a.b.c ")), None);
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY + 10 {
            cache.insert(TokenKey::of(&format!("token-{i}")), claims(1_000));
        }
        assert!(cache.len() <= CAPACITY, "{} entries", cache.len());
        assert!(
            cache
                .get(&TokenKey::of(&format!("token-{}", CAPACITY + 9)))
                .is_some()
        );
    }
}
