//! Ed25519 signing keys: generation, the in-memory key ring, and the JWKS.
//!
//! Keys live in the database so every instance sharing it, and every restart, signs and
//! verifies with the same keys (or in a PEM file the operator manages). The newest
//! unretired key signs; a retired key keeps verifying for one more access-token lifetime
//! (plus the time other instances may take to notice the rotation), so rotation never cuts
//! a live token.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use jsonwebtoken::DecodingKey;
use sha2::{Digest as _, Sha256};

use crate::auth::secret::{ExposeSecret as _, SecretString};

/// The JWS algorithm name of every key here.
pub const ALGORITHM: &str = "EdDSA";

/// How often a running instance re-reads the keys, so a rotation made elsewhere (the CLI,
/// another instance) becomes its signer. A token with an unknown `kid` triggers a re-read
/// sooner (at most once a second).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// A key as stored: private part as PKCS#8 DER (base64), public part as the JWK `x`.
#[derive(Clone)]
pub struct KeyRecord {
    pub kid: String,
    pub private_pkcs8_b64: SecretString,
    pub public_x: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl KeyRecord {
    /// A fresh key from the operating system's randomness. Its `kid` is the RFC 7638
    /// thumbprint of the public key, so the same key always has the same id.
    pub fn generate(now: DateTime<Utc>) -> anyhow::Result<KeyRecord> {
        let seed: [u8; 32] = rand::random();
        KeyRecord::from_signing_key(&SigningKey::from_bytes(&seed), now)
    }

    /// A key from PEM-encoded PKCS#8, as `openssl genpkey -algorithm ed25519` writes it.
    pub fn from_pkcs8_pem(pem: &str, now: DateTime<Utc>) -> anyhow::Result<KeyRecord> {
        let signing = SigningKey::from_pkcs8_pem(pem.trim())
            .map_err(|_| anyhow::anyhow!("not a PEM-encoded PKCS#8 Ed25519 private key"))?;
        KeyRecord::from_signing_key(&signing, now)
    }

    fn from_signing_key(signing: &SigningKey, now: DateTime<Utc>) -> anyhow::Result<KeyRecord> {
        let der = signing
            .to_pkcs8_der()
            .context("encoding the key as PKCS#8")?;
        let public_x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        Ok(KeyRecord {
            kid: thumbprint(&public_x),
            private_pkcs8_b64: STANDARD.encode(der.as_bytes()).into(),
            public_x,
            created_at: now,
            retired_at: None,
        })
    }

    /// Until when a retired key must keep verifying: a token it signed may live one
    /// access-token lifetime, and an instance that has not re-read the keys yet may sign
    /// with it for up to one reload interval after retirement.
    pub fn verifies_until(&self, access_ttl: Duration) -> Option<DateTime<Utc>> {
        let retired = self.retired_at?;
        let window =
            access_ttl
                .saturating_add(RELOAD_INTERVAL)
                .saturating_add(Duration::from_secs(
                    super::claims::LEEWAY_SECS.unsigned_abs(),
                ));
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
        Some(
            retired
                .checked_add_signed(window)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// Whether this key may still have signed a token that has not expired.
    fn can_verify_at(&self, now: DateTime<Utc>, access_ttl: Duration) -> bool {
        self.verifies_until(access_ttl)
            .is_none_or(|until| until > now)
    }

    /// What this key is for, at `now`, among `records` (for `latchkey keys list`).
    pub fn status(
        &self,
        records: &[KeyRecord],
        now: DateTime<Utc>,
        access_ttl: Duration,
    ) -> KeyStatus {
        if signer_of(records).is_some_and(|signer| signer.kid == self.kid) {
            return KeyStatus::Signer;
        }
        match self.verifies_until(access_ttl) {
            Some(until) if until > now => KeyStatus::Verifying { until },
            _ => KeyStatus::Expired,
        }
    }
}

/// A key's role, as `latchkey keys list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Signs new tokens (and verifies).
    Signer,
    /// Retired: verifies tokens it signed until then, signs nothing.
    Verifying { until: DateTime<Utc> },
    /// Retired long enough that no token it signed can still be live.
    Expired,
}

/// The newest unretired key.
fn signer_of(records: &[KeyRecord]) -> Option<&KeyRecord> {
    records
        .iter()
        .filter(|r| r.retired_at.is_none())
        .max_by_key(|r| r.created_at)
}

/// RFC 7638 JWK thumbprint of an Ed25519 public key: SHA-256 over the required members
/// in lexical order, base64url.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The keys one instance signs and verifies with, built from the stored records.
pub struct KeyRing {
    signer_kid: String,
    /// Parsed once: signing with PKCS#8 bytes would parse them on every token.
    signer: SigningKey,
    verifiers: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
}

impl KeyRing {
    /// Fails if no record can sign.
    pub fn from_records(
        records: &[KeyRecord],
        now: DateTime<Utc>,
        access_ttl: Duration,
    ) -> anyhow::Result<KeyRing> {
        let signer_record = signer_of(records).context("no signing key: every key is retired")?;
        let der = STANDARD
            .decode(signer_record.private_pkcs8_b64.expose_secret())
            .with_context(|| format!("signing key {} is not base64", signer_record.kid))?;
        let signer = SigningKey::from_pkcs8_der(&der).map_err(|e| {
            anyhow::anyhow!(
                "signing key {} is not PKCS#8 Ed25519: {e}",
                signer_record.kid
            )
        })?;
        let mut verifiers = HashMap::new();
        let mut jwks = Vec::new();
        for record in records.iter().filter(|r| r.can_verify_at(now, access_ttl)) {
            let key = DecodingKey::from_ed_components(&record.public_x)
                .with_context(|| format!("public key {} is not base64url", record.kid))?;
            verifiers.insert(record.kid.clone(), key);
            jwks.push(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": record.public_x,
                "kid": record.kid,
                "use": "sig",
                "alg": ALGORITHM,
            }));
        }
        Ok(KeyRing {
            signer_kid: signer_record.kid.clone(),
            signer,
            verifiers,
            jwks: serde_json::json!({ "keys": jwks }),
        })
    }

    pub fn signer(&self) -> (&str, &SigningKey) {
        (&self.signer_kid, &self.signer)
    }

    pub fn verifier(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifiers.get(kid)
    }

    /// Whether `kid` verifies here; an unknown one may mean the keys were rotated elsewhere.
    pub fn knows(&self, kid: &str) -> bool {
        self.verifiers.contains_key(kid)
    }

    /// The public keys as an RFC 7517 key set. Never contains a private part.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_generated_key_has_a_thumbprint_kid_and_a_32_byte_public_key() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let key = KeyRecord::generate(now).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.public_x).unwrap().len(), 32);
        assert_eq!(key.kid, thumbprint(&key.public_x));
        assert_eq!(key.kid.len(), 43);
    }

    #[test]
    fn the_newest_unretired_key_signs_and_retired_keys_verify_for_one_ttl_and_a_reload() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ttl = Duration::from_secs(900);
        let mut old = KeyRecord::generate(t0).unwrap();
        let new = KeyRecord::generate(t0 + chrono::Duration::seconds(60)).unwrap();
        old.retired_at = Some(t0 + chrono::Duration::seconds(60));
        let records = [old.clone(), new.clone()];

        let ring =
            KeyRing::from_records(&records, t0 + chrono::Duration::seconds(120), ttl).unwrap();
        assert_eq!(ring.signer().0, new.kid);
        assert!(ring.verifier(&old.kid).is_some());
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);

        // Retired at 60 s: verifies for the ttl, one reload interval and the leeway more.
        let last = t0 + chrono::Duration::seconds(60 + 900 + 30 + 5 - 1);
        let ring = KeyRing::from_records(&records, last, ttl).unwrap();
        assert!(ring.knows(&old.kid));
        let after = t0 + chrono::Duration::seconds(60 + 900 + 30 + 5);
        let ring = KeyRing::from_records(&records, after, ttl).unwrap();
        assert!(!ring.knows(&old.kid));
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn status_names_the_signer_the_verifying_and_the_expired() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ttl = Duration::from_secs(900);
        let mut oldest = KeyRecord::generate(t0).unwrap();
        let mut old = KeyRecord::generate(t0 + chrono::Duration::seconds(10)).unwrap();
        let new = KeyRecord::generate(t0 + chrono::Duration::seconds(5000)).unwrap();
        oldest.retired_at = Some(t0 + chrono::Duration::seconds(10));
        old.retired_at = Some(t0 + chrono::Duration::seconds(5000));
        let records = [oldest.clone(), old.clone(), new.clone()];
        let now = t0 + chrono::Duration::seconds(5001);

        assert_eq!(new.status(&records, now, ttl), KeyStatus::Signer);
        assert_eq!(
            old.status(&records, now, ttl),
            KeyStatus::Verifying {
                until: t0 + chrono::Duration::seconds(5000 + 935)
            }
        );
        assert_eq!(oldest.status(&records, now, ttl), KeyStatus::Expired);
    }

    #[test]
    fn a_pem_key_file_gives_the_same_key_as_its_der() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let generated = KeyRecord::generate(now).unwrap();
        let der = STANDARD
            .decode(generated.private_pkcs8_b64.expose_secret())
            .unwrap();
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let read = KeyRecord::from_pkcs8_pem(&pem, now).unwrap();
        assert_eq!(read.kid, generated.kid);
        assert_eq!(read.public_x, generated.public_x);
        assert!(
            KeyRecord::from_pkcs8_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                now
            )
            .is_err()
        );
        assert!(KeyRecord::from_pkcs8_pem("", now).is_err());
    }

    #[test]
    fn the_jwks_holds_no_private_material() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let key = KeyRecord::generate(now).unwrap();
        let ring = KeyRing::from_records(std::slice::from_ref(&key), now, Duration::from_secs(900))
            .unwrap();
        let text = ring.jwks().to_string();
        assert!(!text.contains(key.private_pkcs8_b64.expose_secret()));
        assert!(!text.contains("\"d\""));
    }
}
