//! The authentication service: the one entry point the GraphQL layer calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AuthError;
use super::access::{AccessTokens, MintedAccessToken, TokenRejection};
use super::account::{Account, Role, TokenMode};
use super::clock::Clock;
use super::password::{PasswordHasher, Verification};
use super::personal_tokens::UseRecorder;
use super::principal::{CredentialKind, Principal};
use super::refresh::{Presented, RefreshToken, TokenHash, classify};
use super::signing::KeySource;
use super::values::{Email, LoginId, Password, Username, parse_name};
use crate::config::Settings;
use crate::store::Store;
use crate::store::sessions::{NewSession, SessionRow};
use crate::store::users::{NewUser, UserRow};

/// The rules the service enforces, taken from the settings once.
#[derive(Debug, Clone)]
pub struct Policy {
    pub signup: bool,
    pub session_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub password_max_age: Option<Duration>,
}

impl Policy {
    pub fn from_settings(settings: &Settings) -> Policy {
        Policy {
            signup: settings.signup,
            session_ttl: settings.session_ttl,
            refresh_reuse_grace: settings.refresh_reuse_grace,
            password_max_age: settings.password_max_age,
        }
    }
}

/// What the caller knows about the client, recorded on the session it opens.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A request to create an account, as it arrived.
#[derive(Debug)]
pub struct RegisterRequest {
    pub username: String,
    pub email: Option<String>,
    pub password: String,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub role: Role,
}

/// A login attempt, as it arrived.
#[derive(Debug)]
pub struct LoginRequest {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: String,
    pub mode: TokenMode,
    pub client: ClientMeta,
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

/// Which session `logout` should end.
#[derive(Debug)]
pub enum LogoutTarget {
    /// The session of this refresh token: holding it is authority over its session.
    RefreshToken(String),
    /// The session of the access token in use.
    Session(Uuid),
    Nothing,
}

/// A token with an unknown `kid` re-reads the keys at most this often, so forged `kid`s
/// cannot turn into a database load.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

pub struct Authenticator {
    pub(super) store: Store,
    hasher: PasswordHasher,
    tokens: AccessTokens,
    key_source: KeySource,
    /// When the keys were last re-read because of an unknown `kid`; the lock also makes
    /// concurrent requests wait for one re-read instead of each doing their own.
    last_kid_reload: tokio::sync::Mutex<Option<Instant>>,
    pub(super) personal_token_uses: UseRecorder,
    pub(super) clock: Arc<dyn Clock>,
    policy: Policy,
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

    /// Self-service sign-up: refused when sign-up is off.
    pub async fn register(&self, request: RegisterRequest) -> Result<Account, AuthError> {
        if !self.policy.signup {
            return Err(AuthError::Forbidden("sign-up is disabled"));
        }
        self.create_account(request).await
    }

    /// Creates an account regardless of the sign-up setting (operators, the CLI).
    pub async fn create_account(&self, request: RegisterRequest) -> Result<Account, AuthError> {
        let username = Username::parse(&request.username)?;
        let email = request
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Email::parse)
            .transpose()?;
        let firstname = parse_name("firstname", request.firstname.as_deref())?;
        let lastname = parse_name("lastname", request.lastname.as_deref())?;
        let password = Password::new_for(request.password, "password", &username, email.as_ref())?;
        let password_hash = self.hasher.hash(&password).await?;
        let row = self
            .store
            .users
            .insert(NewUser {
                id: Uuid::now_v7(),
                username: username.as_str().to_owned(),
                username_key: username.key(),
                email: email.map(|e| e.as_str().to_owned()),
                firstname,
                lastname,
                role: request.role.as_str(),
                password_hash,
                now: self.now(),
            })
            .await?;
        tracing::info!(user_id = %row.id, "account created");
        Ok(self.account_of(&row))
    }

    /// Deletes the account with this username and everything it owns (operators, the CLI):
    /// its sessions and personal tokens stop working at once.
    pub async fn delete_account(&self, username: &str) -> Result<Account, AuthError> {
        const NO_SUCH: AuthError = AuthError::Forbidden("no account has that username");
        let username = Username::parse(username).map_err(|_| NO_SUCH)?;
        let row = self
            .store
            .users
            .find_by_username_key(&username.key())
            .await?
            .ok_or(NO_SUCH)?;
        if !self.store.users.delete(row.id).await? {
            return Err(NO_SUCH);
        }
        tracing::info!(user_id = %row.id, "account deleted");
        Ok(self.account_of(&row))
    }

    /// Checks the password and opens a session.
    pub async fn login(&self, request: LoginRequest) -> Result<SessionTokens, AuthError> {
        let id = LoginId::parse(request.username.as_deref(), request.email.as_deref())?;
        let password = Password::presented(request.password, "password")?;
        let row = match &id {
            LoginId::Username(key) => self.store.users.find_by_username_key(key).await?,
            LoginId::Email(email) => self.store.users.find_by_email(email).await?,
        };
        // An unknown account still costs one hash, so timing does not tell it apart.
        let verification = self
            .hasher
            .verify(&password, row.as_ref().map(|r| r.password_hash.as_str()))
            .await?;
        let row = match (row, verification) {
            (Some(row), Verification::Match) => row,
            (Some(row), Verification::MatchNeedsRehash) => {
                self.upgrade_hash(&row, &password).await;
                row
            }
            _ => return Err(AuthError::InvalidCredentials),
        };
        let now = self.now();
        let account = self.account_of(&row);
        if account.password_expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::PasswordExpired);
        }
        self.open_session(account, request.mode, request.client, now)
            .await
    }

    /// Rotates a refresh token. `mode: None` answers in the session's own mode.
    pub async fn refresh(
        &self,
        presented: &str,
        mode: Option<TokenMode>,
    ) -> Result<SessionTokens, AuthError> {
        const UNKNOWN: AuthError = AuthError::Unauthenticated("invalid refresh token");
        let token = RefreshToken::parse(presented).ok_or(UNKNOWN)?;
        let hash = token.hash();
        let record = self
            .store
            .sessions
            .find_token(hash.as_str())
            .await?
            .ok_or(UNKNOWN)?;
        if !hash.matches(&TokenHash::from_stored(record.token_hash.clone())) {
            return Err(UNKNOWN);
        }
        let now = self.now();
        let session = self
            .live_session(record.session_id, now)
            .await?
            .ok_or(UNKNOWN)?;

        let successor = RefreshToken::generate();
        let successor_hash = successor.hash();
        let mut presented_as = classify(record.superseded_at, now, self.policy.refresh_reuse_grace);
        if presented_as == Presented::Current {
            let won = self
                .store
                .sessions
                .rotate(session.id, hash.as_str(), successor_hash.as_str(), now)
                .await?;
            if !won {
                // Another refresh superseded it a moment ago: judge it as superseded now.
                let superseded_at = self
                    .store
                    .sessions
                    .find_token(hash.as_str())
                    .await?
                    .and_then(|r| r.superseded_at);
                presented_as = classify(
                    superseded_at.or(Some(now)),
                    now,
                    self.policy.refresh_reuse_grace,
                );
            }
        }
        match presented_as {
            Presented::Current => {}
            Presented::WithinGrace => {
                self.store
                    .sessions
                    .issue_sibling(session.id, successor_hash.as_str(), now)
                    .await?;
            }
            Presented::Reused => {
                self.store
                    .sessions
                    .revoke(session.id, "refresh_token_reused", now)
                    .await?;
                tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reused: session revoked");
                return Err(AuthError::RefreshTokenReused);
            }
        }

        let row = self
            .store
            .users
            .find(session.user_id)
            .await?
            .ok_or(UNKNOWN)?;
        let access = self.tokens.mint(row.id, session.id, now)?;
        Ok(SessionTokens {
            account: self.account_of(&row),
            access,
            refresh: successor,
            session_id: session.id,
            mode: mode.unwrap_or_else(|| TokenMode::from_stored(&session.mode)),
            session_expires_at: session.expires_at,
        })
    }

    /// Ends the targeted session, or with `all_sessions` every session of its user.
    /// `true` when something was revoked.
    pub async fn logout(
        &self,
        target: LogoutTarget,
        all_sessions: bool,
    ) -> Result<bool, AuthError> {
        let session_id = match target {
            LogoutTarget::RefreshToken(presented) => {
                let Some(token) = RefreshToken::parse(&presented) else {
                    return Ok(false);
                };
                match self
                    .store
                    .sessions
                    .find_token(token.hash().as_str())
                    .await?
                {
                    Some(record) => record.session_id,
                    None => return Ok(false),
                }
            }
            LogoutTarget::Session(id) => id,
            LogoutTarget::Nothing => return Ok(false),
        };
        let now = self.now();
        if all_sessions {
            let Some(session) = self.store.sessions.find(session_id).await? else {
                return Ok(false);
            };
            let ended = self
                .store
                .sessions
                .revoke_all_for(session.user_id, "logout_all", now)
                .await?;
            Ok(ended > 0)
        } else {
            Ok(self
                .store
                .sessions
                .revoke(session_id, "logout", now)
                .await?)
        }
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
        let session = self
            .live_session(claims.sid, now)
            .await?
            .filter(|s| s.user_id == claims.sub)
            .ok_or(AuthError::Unauthenticated("session has ended"))?;
        Ok(Principal {
            user_id: session.user_id,
            credential: CredentialKind::Session(session.id),
        })
    }

    /// The account of a principal; `Unauthenticated` if it has been deleted since.
    pub async fn account(&self, user_id: Uuid) -> Result<Account, AuthError> {
        let row = self
            .store
            .users
            .find(user_id)
            .await?
            .ok_or(AuthError::Unauthenticated("account no longer exists"))?;
        Ok(self.account_of(&row))
    }

    /// Creates the configured admin at start, unless an admin already exists.
    pub async fn ensure_admin(&self, username: &str, password: &str) -> anyhow::Result<()> {
        if self
            .store
            .users
            .any_admin()
            .await
            .map_err(AuthError::from)?
        {
            return Ok(());
        }
        let request = RegisterRequest {
            username: username.to_owned(),
            email: None,
            password: password.to_owned(),
            firstname: None,
            lastname: None,
            role: Role::Admin,
        };
        match self.create_account(request).await {
            Ok(account) => {
                tracing::info!(user_id = %account.id, "created the configured admin");
                Ok(())
            }
            Err(AuthError::BadInput { field, reason }) => {
                anyhow::bail!("admin_{field}: {reason}")
            }
            Err(AuthError::Conflict(_)) => {
                anyhow::bail!(
                    "admin_username: an account named {username} exists but is not an admin"
                )
            }
            Err(e) => Err(anyhow::anyhow!(e).context("creating the configured admin")),
        }
    }

    async fn open_session(
        &self,
        account: Account,
        mode: TokenMode,
        client: ClientMeta,
        now: DateTime<Utc>,
    ) -> Result<SessionTokens, AuthError> {
        let session_ttl =
            chrono::Duration::from_std(self.policy.session_ttl).context("session_ttl")?;
        let session_id = Uuid::now_v7();
        let refresh = RefreshToken::generate();
        let expires_at = now + session_ttl;
        self.store
            .sessions
            .open(
                NewSession {
                    id: session_id,
                    user_id: account.id,
                    mode: mode.as_str(),
                    expires_at,
                    user_agent: client.user_agent.map(|ua| truncate(ua, 512)),
                    ip: client.ip,
                },
                refresh.hash().as_str(),
                now,
            )
            .await?;
        let access = self.tokens.mint(account.id, session_id, now)?;
        tracing::info!(user_id = %account.id, %session_id, "session opened");
        Ok(SessionTokens {
            account,
            access,
            refresh,
            session_id,
            mode,
            session_expires_at: expires_at,
        })
    }

    async fn live_session(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRow>, AuthError> {
        Ok(self
            .store
            .sessions
            .find(id)
            .await?
            .filter(|s| s.revoked_at.is_none() && s.expires_at > now))
    }

    /// Best effort: a failed upgrade leaves the old (still valid) hash in place.
    async fn upgrade_hash(&self, row: &UserRow, password: &Password) {
        let upgraded = match self.hasher.hash(password).await {
            Ok(hash) => self
                .store
                .users
                .upgrade_password_hash(row.id, &row.password_hash, hash)
                .await
                .map_err(AuthError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = upgraded {
            tracing::warn!(user_id = %row.id, error = %e, "could not upgrade the password hash");
        }
    }

    fn account_of(&self, row: &UserRow) -> Account {
        let password_expires_at = self
            .policy
            .password_max_age
            .and_then(|age| chrono::Duration::from_std(age).ok())
            .and_then(|age| row.password_changed_at.checked_add_signed(age));
        Account {
            id: row.id,
            username: row.username.clone(),
            email: row.email.clone(),
            firstname: row.firstname.clone(),
            lastname: row.lastname.clone(),
            role: Role::from_stored(&row.role),
            created_at: row.created_at,
            password_changed_at: row.password_changed_at,
            password_expires_at,
            totp_enabled: false,
        }
    }
}

fn truncate(mut value: String, max_chars: usize) -> String {
    if let Some((index, _)) = value.char_indices().nth(max_chars) {
        value.truncate(index);
    }
    value
}
