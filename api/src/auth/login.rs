//! Logging in: checking the password and opening a session.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AuthError;
use super::account::{Account, TokenMode};
use super::attempts::account_throttle_key;
use super::password::Verification;
use super::refresh::RefreshToken;
use super::service::{Authenticator, ClientMeta, SessionTokens};
use super::values::{LoginId, Password};
use crate::store::sessions::NewSession;
use crate::store::users::UserRow;

/// A login attempt, as it arrived.
#[derive(Debug)]
pub struct LoginRequest {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: String,
    /// The one-time password or a recovery code; looked at only when TOTP is on.
    pub otp: Option<String>,
    pub mode: TokenMode,
    pub client: ClientMeta,
}

impl Authenticator {
    /// Checks the password and opens a session.
    pub async fn login(&self, request: LoginRequest) -> Result<SessionTokens, AuthError> {
        let id = LoginId::parse(request.username.as_deref(), request.email.as_deref())?;
        let password = Password::presented(request.password, "password")?;
        let row = match &id {
            LoginId::Username(key) => self.store.users.find_by_username_key(key).await?,
            LoginId::Email(email) => self.store.users.find_by_email(email).await?,
        };
        // Throttle before the password is looked at. A name no account has is counted
        // under a stand-in key, so it locks like a real one: answers never tell them apart.
        let throttle_key = account_throttle_key(row.as_ref().map(|r| r.id), &id);
        let ip = request.client.ip.clone();
        let prior_failures = self
            .login_throttle_check(Some(throttle_key), ip.as_deref())
            .await?;
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
            _ => {
                self.login_failed(Some(throttle_key), ip.as_deref()).await;
                return Err(AuthError::InvalidCredentials);
            }
        };
        if let Err(e) = self.check_second_factor(&row, request.otp.as_deref()).await {
            // A wrong one-time password is a failed credential like a wrong password; a
            // missing one is the first step of a two-step login, and counts for nothing.
            match e {
                AuthError::InvalidOtp => self.login_failed(Some(row.id), ip.as_deref()).await,
                _ => self.login_ip_refund(ip.as_deref()),
            }
            return Err(e);
        }
        // Every factor is right: the failures are forgotten, even if the password has
        // expired (the owner has proved who they are; `changePassword` is next).
        self.login_succeeded(row.id, prior_failures).await;
        self.login_ip_refund(ip.as_deref());
        let now = self.now();
        let account = self.account_of(&row);
        if account.password_expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::PasswordExpired);
        }
        self.open_session(account, request.mode, request.client, now)
            .await
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
}

fn truncate(mut value: String, max_chars: usize) -> String {
    if let Some((index, _)) = value.char_indices().nth(max_chars) {
        value.truncate(index);
    }
    value
}
