//! Refreshing (rotation with reuse detection) and logging out.

use uuid::Uuid;

use super::AuthError;
use super::account::TokenMode;
use super::refresh::{Presented, RefreshToken, TokenHash, classify};
use super::service::{Authenticator, SessionTokens};
use super::throttle::ThrottledAction;

/// Which session `logout` should end.
#[derive(Debug)]
pub enum LogoutTarget {
    /// The session of this refresh token: holding it is authority over its session.
    RefreshToken(String),
    /// The session of the access token in use.
    Session(Uuid),
    Nothing,
}

impl Authenticator {
    /// Rotates a refresh token. `mode: None` answers in the session's own mode.
    ///
    /// Throttled per client address on failures only (unknown, revoked, reused tokens):
    /// every refresh takes a unit of the address budget and a success gives it back, so
    /// the refreshes of many users behind one NAT never use it up.
    pub async fn refresh(
        &self,
        presented: &str,
        mode: Option<TokenMode>,
        ip: Option<&str>,
    ) -> Result<SessionTokens, AuthError> {
        self.throttle_ip(ThrottledAction::Refresh, ip)?;
        let outcome = self.rotate(presented, mode).await;
        if !matches!(
            outcome,
            Err(AuthError::Unauthenticated(_) | AuthError::RefreshTokenReused)
        ) {
            self.ip_succeeded(ThrottledAction::Refresh, ip);
        }
        outcome
    }

    async fn rotate(
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
}
