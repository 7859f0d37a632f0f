//! The authentication service: the one entry point the GraphQL layer calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AuthError;
use super::access::{AccessTokens, MintedAccessToken, TokenRejection};
use super::account::{Account, TokenMode};
use super::clock::Clock;
use super::password::PasswordHasher;
use super::personal_tokens::UseRecorder;
use super::principal::{CredentialKind, Principal};
use super::refresh::RefreshToken;
use super::signing::KeySource;
use crate::config::Settings;
use crate::store::Store;
use crate::store::sessions::SessionRow;

pub use super::accounts::RegisterRequest;
pub use super::login::LoginRequest;
pub use super::rotation::LogoutTarget;

/// The rules the service enforces, taken from the settings once.
#[derive(Debug, Clone)]
pub struct Policy {
    pub signup: bool,
    pub session_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub password_max_age: Option<Duration>,
    pub api_keys_required: bool,
}

impl Policy {
    pub fn from_settings(settings: &Settings) -> Policy {
        Policy {
            signup: settings.signup,
            session_ttl: settings.session_ttl,
            refresh_reuse_grace: settings.refresh_reuse_grace,
            password_max_age: settings.password_max_age,
            api_keys_required: settings.api_keys_required,
        }
    }
}

/// What the caller knows about the client, recorded on the session it opens.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// Tokens for a session: the result of `login` and `refresh`.
pub struct SessionTokens {
    pub account: Account,
    pub access: MintedAccessToken,
    pub refresh: RefreshToken,
    pub session_id: Uuid,
    pub mode: TokenMode,
    pub session_expires_at: DateTime<Utc>,
}

/// A token with an unknown `kid` re-reads the keys at most this often, so forged `kid`s
/// cannot turn into a database load.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

pub struct Authenticator {
    pub(super) store: Store,
    pub(super) hasher: PasswordHasher,
    pub(super) tokens: AccessTokens,
    key_source: KeySource,
    /// When the keys were last re-read because of an unknown `kid`; the lock also makes
    /// concurrent requests wait for one re-read instead of each doing their own.
    last_kid_reload: tokio::sync::Mutex<Option<Instant>>,
    pub(super) personal_token_uses: UseRecorder,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) policy: Policy,
    pub(super) throttle: super::attempts::Throttle,
}

impl Authenticator {
    /// Loads the signing keys (creating the first one if the database has none).
    pub async fn start(
        settings: &Settings,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Authenticator> {
        let hasher = PasswordHasher::new(settings.hashing)?;
        let now = clock.now();
        let key_source = KeySource::new(settings.signing_key_file.as_deref(), store.clone(), now)?;
        let ring = key_source.load(now, settings.access_token_ttl).await?;
        let tokens = AccessTokens::new(
            settings.issuer.clone(),
            settings.audience.clone(),
            settings.access_token_ttl,
            ring,
        );
        Ok(Authenticator {
            store,
            hasher,
            tokens,
            key_source,
            last_kid_reload: tokio::sync::Mutex::new(None),
            personal_token_uses: UseRecorder::default(),
            clock,
            policy: Policy::from_settings(settings),
            throttle: super::attempts::Throttle::new(settings),
        })
    }

    /// Re-reads the signing keys, so a rotation made by another process takes effect here:
    /// its new key becomes the signer and the JWKS follows.
    pub async fn reload_keys(&self) -> anyhow::Result<()> {
        let ring = self.key_source.load(self.now(), self.tokens.ttl()).await?;
        self.tokens.replace_keys(ring);
        Ok(())
    }

    /// Re-reads the keys for a token whose `kid` we do not know, at most once a second.
    async fn reload_keys_for_unknown_kid(&self) {
        let mut last = self.last_kid_reload.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_RELOAD_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.reload_keys().await {
            tracing::warn!(error = %format!("{e:#}"), "could not re-read the signing keys");
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn access_token_ttl(&self) -> Duration {
        self.tokens.ttl()
    }

    /// The public signing keys (RFC 7517).
    pub fn jwks(&self) -> serde_json::Value {
        self.tokens.keys().jwks().clone()
    }

    /// Checks a bearer credential: a personal token (`lk_...`), else an access token and
    /// that its session is still live.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let now = self.now();
        if token.starts_with(super::personal_tokens::PREFIX) {
            return self.authenticate_personal_token(token, now).await;
        }
        let claims = match self.tokens.verify(token, now) {
            Err(TokenRejection::UnknownKey) => {
                self.reload_keys_for_unknown_kid().await;
                self.tokens.verify(token, now)?
            }
            verified => verified?,
        };
        // The session and its account in one read: the session must still be live (a
        // revocation takes effect on the next request), and `me` needs the account.
        let (session, owner) = self
            .store
            .sessions
            .find_with_user(claims.sid)
            .await?
            .filter(|(s, _)| s.user_id == claims.sub && is_live(s, now))
            .ok_or(AuthError::Unauthenticated("session has ended"))?;
        Ok(Principal {
            user_id: session.user_id,
            credential: CredentialKind::Session(session.id),
            account: Arc::new(self.account_of(&owner)),
        })
    }

    pub(super) async fn live_session(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRow>, AuthError> {
        Ok(self
            .store
            .sessions
            .find(id)
            .await?
            .filter(|s| is_live(s, now)))
    }
}

/// Neither revoked nor past its end.
fn is_live(session: &SessionRow, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}
