//! The login sessions in the database: opening one, rotating its refresh token (with
//! reuse detection), ending it, and finding the live ones.
//!
//! Every write that decides something is conditional (rotation supersedes the presented
//! token only if it is still current), so two requests, or two instances, racing with one
//! token get one winner; the loser is judged as if it came just after.

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::refresh_token::{Presented, RefreshToken, TokenHash, classify};
use super::token_mode::TokenMode;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::store::sessions::{NewSession, SessionRow, Sessions};
use crate::store::users::UserRow;

/// Longest user agent kept on a session, in characters.
const USER_AGENT_MAX_CHARS: usize = 512;

/// A session just opened, with its first refresh token.
pub struct OpenedSession {
    pub id: Uuid,
    pub refresh: RefreshToken,
    pub expires_at: DateTime<Utc>,
}

/// A refresh that went through: the session and the token that replaces the one presented.
pub struct Rotated {
    pub session: SessionRow,
    pub successor: RefreshToken,
}

pub struct SessionLedger {
    sessions: Sessions,
    ttl: Duration,
    reuse_grace: Duration,
}

/// Refused refresh tokens all look alike to the client.
const UNKNOWN_REFRESH_TOKEN: AuthError = AuthError::Unauthenticated("invalid refresh token");

impl SessionLedger {
    pub fn new(sessions: Sessions, ttl: Duration, reuse_grace: Duration) -> SessionLedger {
        SessionLedger {
            sessions,
            ttl,
            reuse_grace,
        }
    }

    /// The longest life of a session.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Opens a session for `user_id` that ends `session_ttl` from now.
    pub async fn open(
        &self,
        user_id: Uuid,
        mode: TokenMode,
        client: ClientMeta,
        now: DateTime<Utc>,
    ) -> Result<OpenedSession, AuthError> {
        let ttl = chrono::Duration::from_std(self.ttl).context("session_ttl")?;
        let id = Uuid::now_v7();
        let refresh = RefreshToken::generate();
        let expires_at = now + ttl;
        self.sessions
            .open(
                NewSession {
                    id,
                    user_id,
                    mode: mode.as_str(),
                    expires_at,
                    user_agent: client
                        .user_agent
                        .map(|ua| truncate(ua, USER_AGENT_MAX_CHARS)),
                    ip: client.ip,
                },
                refresh.hash().as_str(),
                now,
            )
            .await?;
        tracing::info!(%user_id, session_id = %id, "session opened");
        Ok(OpenedSession {
            id,
            refresh,
            expires_at,
        })
    }

    /// The session `sid` with its owner, if it is live and belongs to `sub` (the claims of
    /// an access token): a revocation takes effect on the next request.
    pub async fn live_with_owner(
        &self,
        sid: Uuid,
        sub: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Uuid, UserRow), AuthError> {
        let (session, owner) = self
            .sessions
            .find_with_user(sid)
            .await?
            .filter(|(s, _)| s.user_id == sub && is_live(s, now))
            .ok_or(AuthError::Unauthenticated("session has ended"))?;
        Ok((session.id, owner))
    }

    /// Supersedes the presented refresh token with a successor. A token superseded within
    /// the grace window gets a successor of its own (two tabs refreshing at once); after
    /// it, the session ends and the answer is `RefreshTokenReused`.
    pub async fn rotate(&self, presented: &str, now: DateTime<Utc>) -> Result<Rotated, AuthError> {
        let token = RefreshToken::parse(presented).ok_or(UNKNOWN_REFRESH_TOKEN)?;
        let hash = token.hash();
        let record = self
            .sessions
            .find_token(hash.as_str())
            .await?
            .ok_or(UNKNOWN_REFRESH_TOKEN)?;
        if !hash.matches(&TokenHash::from_stored(
            record.token_hash.expose().to_owned(),
        )) {
            return Err(UNKNOWN_REFRESH_TOKEN);
        }
        let session = self
            .sessions
            .find(record.session_id)
            .await?
            .filter(|s| is_live(s, now))
            .ok_or(UNKNOWN_REFRESH_TOKEN)?;

        let successor = RefreshToken::generate();
        let successor_hash = successor.hash();
        let mut presented_as = classify(record.superseded_at, now, self.reuse_grace);
        if presented_as == Presented::Current {
            let won = self
                .sessions
                .rotate(session.id, hash.as_str(), successor_hash.as_str(), now)
                .await?;
            if !won {
                // Another refresh superseded it a moment ago: judge it as superseded now.
                let superseded_at = self
                    .sessions
                    .find_token(hash.as_str())
                    .await?
                    .and_then(|r| r.superseded_at);
                presented_as = classify(superseded_at.or(Some(now)), now, self.reuse_grace);
            }
        }
        match presented_as {
            Presented::Current => {}
            Presented::WithinGrace => {
                self.sessions
                    .issue_sibling(session.id, successor_hash.as_str(), now)
                    .await?;
            }
            Presented::Reused => {
                self.sessions
                    .revoke(session.id, "refresh_token_reused", now)
                    .await?;
                tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reused: session revoked");
                return Err(AuthError::RefreshTokenReused);
            }
        }
        Ok(Rotated { session, successor })
    }

    /// The session a refresh token belongs to, whatever its state; `None` for a token
    /// that is malformed or unknown.
    pub async fn session_of(&self, presented: &str) -> Result<Option<Uuid>, AuthError> {
        let Some(token) = RefreshToken::parse(presented) else {
            return Ok(None);
        };
        Ok(self
            .sessions
            .find_token(token.hash().as_str())
            .await?
            .map(|record| record.session_id))
    }

    /// Ends one session (`why` is recorded); `true` when it was live.
    pub async fn end(
        &self,
        id: Uuid,
        why: &'static str,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        Ok(self.sessions.revoke(id, why, now).await?)
    }

    /// Ends every session of the user `id` belongs to; `true` when one was live.
    pub async fn end_all_of_owner(
        &self,
        id: Uuid,
        why: &'static str,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let Some(session) = self.sessions.find(id).await? else {
            return Ok(false);
        };
        let ended = self
            .sessions
            .revoke_all_for(session.user_id, why, now)
            .await?;
        Ok(ended > 0)
    }

    /// Ends one of `owner`'s sessions; `false` when it is unknown, ended, or someone else's.
    pub async fn end_owned(
        &self,
        id: Uuid,
        owner: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        Ok(self
            .sessions
            .revoke_owned(id, owner, "revoked_by_user", now)
            .await?)
    }

    /// `owner`'s sessions that are neither revoked nor expired, newest first.
    pub async fn live_of(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRow>, AuthError> {
        Ok(self.sessions.live_for(owner, now).await?)
    }
}

/// Neither revoked nor past its end.
fn is_live(session: &SessionRow, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}

fn truncate(mut value: String, max_chars: usize) -> String {
    if let Some((index, _)) = value.char_indices().nth(max_chars) {
        value.truncate(index);
    }
    value
}
