//! Where the signing keys come from, and how they are rotated.
//!
//! By default the keys live in the database: the first start generates one, every instance
//! sharing the database reads the same ones, and `latchkey keys rotate` adds a new signer
//! while retired keys keep verifying the tokens they signed. An operator who manages keys
//! outside Latchkey points `signing_key_file` at a PEM key instead; that key is then the
//! only one, and rotating it is a matter of replacing the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::key_ring::{KeyRecord, KeyRing};
use crate::auth::error::AuthError;
use crate::store::keys::{Keys, SigningKeyRow};
use crate::store::private_file::refuse_if_shared;

/// The origin of an instance's keys.
pub enum KeySource {
    Database(Keys),
    File { path: PathBuf, record: KeyRecord },
}

/// What `rotate` did.
#[derive(Debug)]
pub struct Rotation {
    /// The new signer.
    pub kid: String,
    /// Keys that stopped signing now and verify until the returned time.
    pub retired: Vec<(String, DateTime<Utc>)>,
    /// Keys deleted because no token they signed can still be live.
    pub pruned: u64,
}

impl KeySource {
    /// The key file when one is configured, else the database.
    pub fn new(
        key_file: Option<&Path>,
        keys: Keys,
        now: DateTime<Utc>,
    ) -> anyhow::Result<KeySource> {
        let Some(path) = key_file else {
            return Ok(KeySource::Database(keys));
        };
        refuse_if_shared(path, "signing_key_file")?;
        let pem = std::fs::read_to_string(path).with_context(|| {
            format!(
                "invalid setting `signing_key_file`: cannot read {}",
                path.display()
            )
        })?;
        let record = KeyRecord::from_pkcs8_pem(&pem, now)
            .with_context(|| format!("invalid setting `signing_key_file`: {}", path.display()))?;
        Ok(KeySource::File {
            path: path.to_owned(),
            record,
        })
    }

    /// Every key, oldest first, after creating the first database key if there is none.
    pub async fn records(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<KeyRecord>> {
        let keys = match self {
            KeySource::File { record, .. } => return Ok(vec![record.clone()]),
            KeySource::Database(keys) => keys,
        };
        let mut rows = keys.all().await.map_err(AuthError::from)?;
        if !rows.iter().any(|r| r.retired_at.is_none()) {
            let key = KeyRecord::generate(now)?;
            keys.insert(key.kid.clone(), &key.private_pkcs8_b64, key.public_x, now)
                .await
                .map_err(AuthError::from)?;
            tracing::info!(kid = %key.kid, "generated the first signing key");
            // Re-read: another instance starting at the same moment may have added one too.
            rows = keys.all().await.map_err(AuthError::from)?;
        }
        Ok(rows.into_iter().map(record_of).collect())
    }

    /// The key ring as of `now`.
    pub async fn load(&self, now: DateTime<Utc>, access_ttl: Duration) -> anyhow::Result<KeyRing> {
        KeyRing::from_records(&self.records(now).await?, now, access_ttl)
    }

    /// Makes a fresh key the signer and retires the others; deletes keys retired so long
    /// ago that nothing they signed can still be live.
    pub async fn rotate(
        &self,
        now: DateTime<Utc>,
        access_ttl: Duration,
    ) -> anyhow::Result<Rotation> {
        let keys = match self {
            KeySource::Database(keys) => keys,
            KeySource::File { path, .. } => anyhow::bail!(
                "the signing key comes from `signing_key_file` ({}): rotate it by replacing \
                 that file and restarting every instance",
                path.display()
            ),
        };
        let before = self.records(now).await?;
        let key = KeyRecord::generate(now)?;
        keys.rotate(key.kid.clone(), &key.private_pkcs8_b64, key.public_x, now)
            .await
            .map_err(AuthError::from)?;
        let mut retired = Vec::new();
        let mut expired = Vec::new();
        for mut record in before {
            record.retired_at = record.retired_at.or(Some(now));
            match record.verifies_until(access_ttl) {
                Some(until) if until > now => {
                    if record.retired_at == Some(now) {
                        retired.push((record.kid, until));
                    }
                }
                _ => expired.push(record.kid),
            }
        }
        let pruned = keys.delete(&expired).await.map_err(AuthError::from)?;
        tracing::info!(kid = %key.kid, pruned, "rotated the signing key");
        Ok(Rotation {
            kid: key.kid,
            retired,
            pruned,
        })
    }
}

fn record_of(row: SigningKeyRow) -> KeyRecord {
    KeyRecord {
        kid: row.kid,
        private_pkcs8_b64: row.private_key,
        public_x: row.public_key,
        created_at: row.created_at,
        retired_at: row.retired_at,
    }
}
