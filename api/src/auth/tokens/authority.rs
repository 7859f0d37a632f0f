//! Access tokens with the keys kept current: signing with the key source's signer, and
//! re-reading the keys when a token names a `kid` this instance does not know (another
//! process may have rotated them).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::access_tokens::{AccessTokens, MintedAccessToken};
use super::claims::{AccessTokenClaims, TokenRejection};
use super::key_source::KeySource;
use crate::auth::error::AuthError;
use crate::config::Settings;
use crate::store::keys::Keys;

/// A token with an unknown `kid` re-reads the keys at most this often, so forged `kid`s
/// cannot turn into a database load.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

pub struct TokenAuthority {
    tokens: AccessTokens,
    key_source: KeySource,
    /// When the keys were last re-read because of an unknown `kid`; the lock also makes
    /// concurrent requests wait for one re-read instead of each doing their own.
    last_kid_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl TokenAuthority {
    /// Loads the keys (the key file's, or the database's, creating the first one there).
    pub async fn start(
        settings: &Settings,
        keys: Keys,
        now: DateTime<Utc>,
    ) -> anyhow::Result<TokenAuthority> {
        let key_source = KeySource::new(settings.signing_key_file.as_deref(), keys, now)?;
        let ring = key_source.load(now, settings.access_token_ttl).await?;
        Ok(TokenAuthority {
            tokens: AccessTokens::new(
                settings.issuer.clone(),
                settings.audience.clone(),
                settings.access_token_ttl,
                ring,
            ),
            key_source,
            last_kid_reload: tokio::sync::Mutex::new(None),
        })
    }

    pub fn ttl(&self) -> Duration {
        self.tokens.ttl()
    }

    /// The public signing keys (RFC 7517).
    pub fn jwks(&self) -> serde_json::Value {
        self.tokens.keys().jwks().clone()
    }

    pub fn mint(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<MintedAccessToken, AuthError> {
        self.tokens.mint(user_id, session_id, now)
    }

    /// The claims of a token we signed and that has not expired. A token whose `kid` is
    /// unknown makes the keys be re-read first (at most once a second).
    pub async fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<AccessTokenClaims, AuthError> {
        match self.tokens.verify(token, now) {
            Err(TokenRejection::UnknownKey) => {
                self.reload_for_unknown_kid(now).await;
                Ok(self.tokens.verify(token, now)?)
            }
            verified => Ok(verified?),
        }
    }

    /// Re-reads the keys, so a rotation made by another process takes effect here.
    pub async fn reload(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let ring = self.key_source.load(now, self.tokens.ttl()).await?;
        self.tokens.replace_keys(ring);
        Ok(())
    }

    async fn reload_for_unknown_kid(&self, now: DateTime<Utc>) {
        let mut last = self.last_kid_reload.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.reload(now).await {
            tracing::warn!(error = %format!("{e:#}"), "could not re-read the signing keys");
        }
    }
}
