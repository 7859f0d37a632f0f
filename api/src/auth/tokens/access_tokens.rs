//! Access tokens: short-lived Ed25519 JWTs in the RFC 9068 profile.
//!
//! Verification pins everything an attacker could choose: the algorithm must be EdDSA
//! (no `none`, no HMAC keyed with our public key), `typ` must be `at+jwt`, the `kid`
//! must name one of our keys, and `iss`/`aud` must be ours. Expiry is checked against
//! the caller's `now`, after the signature, so a forged token is never "expired".

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use uuid::Uuid;

use super::claims::{AccessTokenClaims, TOKEN_TYPE, TokenRejection, unexpired};
use super::jws;
use super::key_ring::KeyRing;
use super::verified_cache::{TokenKey, VerifiedTokens};
use crate::auth::error::AuthError;
use crate::auth::secret::SecretString;

/// A freshly signed token.
pub struct MintedAccessToken {
    pub token: SecretString,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Signs and verifies access tokens for one issuer and audience.
pub struct AccessTokens {
    issuer: String,
    audience: String,
    ttl: Duration,
    /// Swapped whole when the keys are re-read; readers clone the `Arc`s and let go.
    ring: RwLock<LiveRing>,
}

/// The keys in use and the tokens verified with them. The two are replaced together, so
/// a token remembered as verified never outlives the ring that verified it, even when a
/// verification finishes after the ring was swapped.
#[derive(Clone)]
struct LiveRing {
    keys: Arc<KeyRing>,
    verified: Arc<VerifiedTokens>,
}

impl LiveRing {
    fn new(keys: KeyRing) -> LiveRing {
        LiveRing {
            keys: Arc::new(keys),
            verified: Arc::default(),
        }
    }
}

impl AccessTokens {
    pub fn new(issuer: String, audience: String, ttl: Duration, keys: KeyRing) -> AccessTokens {
        AccessTokens {
            issuer,
            audience,
            ttl,
            ring: RwLock::new(LiveRing::new(keys)),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The key ring in use now.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.live_ring().keys
    }

    fn live_ring(&self) -> LiveRing {
        // A panic elsewhere cannot leave a half-written ring; poisoning carries no meaning.
        self.ring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes `keys` the ring for every token signed or verified from now on, and forgets
    /// the tokens verified with the previous one.
    pub fn replace_keys(&self, keys: KeyRing) {
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = LiveRing::new(keys);
    }

    pub fn mint(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<MintedAccessToken, AuthError> {
        let ttl =
            chrono::Duration::from_std(self.ttl).map_err(|e| AuthError::Internal(e.into()))?;
        let expires_at = now + ttl;
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4(),
        };
        let keys = self.keys();
        let (kid, key) = keys.signer();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(kid.to_owned());
        let token = jws::sign_ed25519(&header, &claims, key)
            .map_err(|e| AuthError::Internal(anyhow::anyhow!("signing an access token: {e}")))?;
        Ok(MintedAccessToken {
            token: token.into(),
            issued_at: now,
            expires_at,
        })
    }

    /// Checks signature, algorithm, type, issuer, audience and expiry. The signature
    /// and the rest but expiry are checked once per token and key ring; expiry always.
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessTokenClaims, TokenRejection> {
        let ring = self.live_ring();
        let key = TokenKey::of(token);
        if let Some(claims) = ring.verified.get(&key) {
            return unexpired(claims, now);
        }
        let claims = unexpired(self.verify_signed(token, &ring.keys)?, now)?;
        ring.verified.insert(key, claims.clone());
        Ok(claims)
    }

    /// Everything but expiry.
    fn verify_signed(
        &self,
        token: &str,
        keys: &KeyRing,
    ) -> Result<AccessTokenClaims, TokenRejection> {
        const INVALID: TokenRejection = TokenRejection::Invalid;
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if header.alg != Algorithm::EdDSA || !typ_ok {
            return Err(INVALID);
        }
        let kid = header.kid.ok_or(INVALID)?;
        let key = keys.verifier(&kid).ok_or(TokenRejection::UnknownKey)?;

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is judged below against `now`, not the library's own clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data = jsonwebtoken::decode::<AccessTokenClaims>(token, key, &validation)
            .map_err(|_| INVALID)?;
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::auth::secret::ExposeSecret as _;
    use crate::auth::tokens::key_ring::KeyRecord;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn tokens_with(records: &[KeyRecord]) -> AccessTokens {
        let ring = KeyRing::from_records(records, at(0), Duration::from_secs(900)).unwrap();
        AccessTokens::new(
            "latchkey".into(),
            "latchkey".into(),
            Duration::from_secs(900),
            ring,
        )
    }

    fn tokens() -> AccessTokens {
        tokens_with(&[KeyRecord::generate(at(0)).unwrap()])
    }

    fn is_invalid(result: Result<AccessTokenClaims, TokenRejection>) -> bool {
        matches!(
            result,
            Err(TokenRejection::Invalid | TokenRejection::UnknownKey)
        )
    }

    #[test]
    fn a_minted_token_verifies_with_its_claims() {
        let tokens = tokens();
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let minted = tokens.mint(user, session, at(0)).unwrap();
        assert_eq!(minted.expires_at, at(900));
        let claims = tokens.verify(minted.token.expose_secret(), at(1)).unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.exp),
            (user, session, at(900).timestamp())
        );
        let header = jsonwebtoken::decode_header(minted.token.expose_secret()).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert!(header.kid.is_some());
    }

    #[test]
    fn expiry_allows_five_seconds_of_leeway_then_says_expired() {
        let tokens = tokens();
        let minted = tokens.mint(Uuid::new_v4(), Uuid::new_v4(), at(0)).unwrap();
        assert!(tokens.verify(minted.token.expose_secret(), at(905)).is_ok());
        assert!(matches!(
            tokens.verify(minted.token.expose_secret(), at(906)),
            Err(TokenRejection::Expired)
        ));
    }

    #[test]
    fn a_token_verified_before_stops_verifying_when_its_key_leaves_the_ring() {
        let signer = KeyRecord::generate(at(0)).unwrap();
        let tokens = tokens_with(std::slice::from_ref(&signer));
        let minted = tokens.mint(Uuid::new_v4(), Uuid::new_v4(), at(0)).unwrap();
        assert!(tokens.verify(minted.token.expose_secret(), at(1)).is_ok());
        assert!(
            tokens.verify(minted.token.expose_secret(), at(2)).is_ok(),
            "remembered"
        );
        let other = KeyRecord::generate(at(3)).unwrap();
        tokens.replace_keys(
            KeyRing::from_records(&[other], at(3), Duration::from_secs(900)).unwrap(),
        );
        assert!(is_invalid(
            tokens.verify(minted.token.expose_secret(), at(4))
        ));
    }

    #[test]
    fn a_token_from_another_key_is_invalid_not_expired() {
        let ours = tokens();
        let theirs = tokens();
        let forged = theirs
            .mint(Uuid::new_v4(), Uuid::new_v4(), at(-10_000))
            .unwrap();
        assert!(is_invalid(ours.verify(forged.token.expose_secret(), at(0))));
    }

    #[test]
    fn an_unknown_kid_is_reported_and_verifies_once_the_ring_holds_the_key() {
        let old = KeyRecord::generate(at(0)).unwrap();
        let new = KeyRecord::generate(at(1)).unwrap();
        let both = [old.clone(), new];
        let stale = tokens_with(std::slice::from_ref(&old));
        let rotated = tokens_with(&both);
        let minted = rotated.mint(Uuid::new_v4(), Uuid::new_v4(), at(1)).unwrap();

        assert_eq!(
            stale.verify(minted.token.expose_secret(), at(2)),
            Err(TokenRejection::UnknownKey)
        );
        stale.replace_keys(KeyRing::from_records(&both, at(2), Duration::from_secs(900)).unwrap());
        assert!(stale.verify(minted.token.expose_secret(), at(2)).is_ok());
    }

    #[test]
    fn a_flipped_signature_byte_is_invalid() {
        let tokens = tokens();
        let minted = tokens.mint(Uuid::new_v4(), Uuid::new_v4(), at(0)).unwrap();
        let (head, sig) = minted.token.expose_secret().rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        bytes[0] ^= 1;
        let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert!(is_invalid(tokens.verify(&tampered, at(0))));
    }

    #[test]
    fn alg_none_and_hmac_tokens_are_invalid() {
        let tokens = tokens();
        let minted = tokens.mint(Uuid::new_v4(), Uuid::new_v4(), at(0)).unwrap();
        let payload = minted.token.expose_secret().split('.').nth(1).unwrap();
        let kid = jsonwebtoken::decode_header(minted.token.expose_secret())
            .unwrap()
            .kid
            .unwrap();
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD
                .encode(format!(r#"{{"alg":"{alg}","typ":"at+jwt","kid":"{kid}"}}"#));
            assert!(
                is_invalid(tokens.verify(&format!("{header}.{payload}."), at(0))),
                "{alg}"
            );
        }
    }

    #[test]
    fn another_issuer_or_audience_is_invalid() {
        let record = KeyRecord::generate(at(0)).unwrap();
        let ring = |_| {
            KeyRing::from_records(
                std::slice::from_ref(&record),
                at(0),
                Duration::from_secs(900),
            )
            .unwrap()
        };
        let ours = AccessTokens::new(
            "latchkey".into(),
            "latchkey".into(),
            Duration::from_secs(900),
            ring(()),
        );
        let other_iss = AccessTokens::new(
            "evil".into(),
            "latchkey".into(),
            Duration::from_secs(900),
            ring(()),
        );
        let other_aud = AccessTokens::new(
            "latchkey".into(),
            "evil".into(),
            Duration::from_secs(900),
            ring(()),
        );
        for minter in [other_iss, other_aud] {
            let minted = minter.mint(Uuid::new_v4(), Uuid::new_v4(), at(0)).unwrap();
            assert!(is_invalid(ours.verify(minted.token.expose_secret(), at(0))));
        }
    }

    #[test]
    fn garbage_is_invalid() {
        let tokens = tokens();
        for garbage in ["", "abc", "a.b.c", "lk_notajwt"] {
            assert!(is_invalid(tokens.verify(garbage, at(0))), "{garbage:?}");
        }
    }
}
