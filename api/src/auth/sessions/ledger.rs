//! The login sessions in the database: opening one, rotating its refresh token (with
//! reuse detection), ending it, and finding the live ones.
//!
//! Every write that decides something is conditional (rotation supersedes the presented
//! token only if it is still current), so two requests, or two instances, racing with one
//! token get one winner; the loser is judged as if it came just after.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::refresh_token::{Presented, RefreshToken, SuccessorSeed, TokenHash, classify};
use super::step_up::AuthenticationMethod;
use super::token_mode::TokenMode;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::series::record::{RefreshOutcome, refresh as count_refresh};
use crate::store::auth_events::Journal;
use crate::store::sessions::{NewSession, SessionRow, Sessions};
use crate::store::users::UserRow;

/// Longest user agent kept on a session, in characters.
const USER_AGENT_MAX_CHARS: usize = 512;

/// A session just opened, with its first refresh token.
pub struct OpenedSession {
    pub id: Uuid,
    /// The events written with the session, to publish.
    pub journal: Journal,
    pub refresh: RefreshToken,
    pub expires_at: DateTime<Utc>,
}

/// A refresh that went through: the session and the token that replaces the one presented.
pub struct Rotated {
    pub session: SessionRow,
    pub successor: RefreshToken,
}

/// What presenting a refresh token did.
pub enum Rotation {
    Rotated(Rotated),
    /// It came back after its grace window: its session was ended, and these events
    /// were written (the answer is `RefreshTokenReused`).
    Reused(Journal),
}

pub struct SessionLedger {
    sessions: Sessions,
    ttl: Duration,
    reuse_grace: Duration,
    /// Ended sessions are deleted this long after they end, so no table grows forever.
    retention: Duration,
    last_prune: Mutex<Option<DateTime<Utc>>>,
}

/// Ended sessions are deleted at most this often per instance.
const PRUNE_INTERVAL: chrono::Duration = chrono::Duration::hours(1);

/// Refused refresh tokens all look alike to the client.
const UNKNOWN_REFRESH_TOKEN: AuthError = AuthError::Unauthenticated("invalid refresh token");

impl SessionLedger {
    pub fn new(
        sessions: Sessions,
        ttl: Duration,
        reuse_grace: Duration,
        retention: Duration,
    ) -> SessionLedger {
        SessionLedger {
            sessions,
            ttl,
            reuse_grace,
            retention,
            last_prune: Mutex::new(None),
        }
    }

    /// The longest life of a session.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Opens a session for `user_id` that ends `session_ttl` from now, authenticated now
    /// by `method`.
    pub async fn open(
        &self,
        user_id: Uuid,
        mode: TokenMode,
        method: AuthenticationMethod,
        client: ClientMeta,
        opened: NewAuthEvent,
        now: DateTime<Utc>,
    ) -> Result<OpenedSession, AuthError> {
        let ttl = chrono::Duration::from_std(self.ttl).context("session_ttl")?;
        let id = Uuid::now_v7();
        let refresh = RefreshToken::generate();
        let expires_at = now + ttl;
        let mut journal = Journal::of(opened.session(Some(id)));
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
                    authentication_method: method.as_str(),
                },
                refresh.hash().as_str(),
                &mut journal,
                now,
            )
            .await?;
        tracing::info!(%user_id, session_id = %id, "session opened");
        self.prune_if_due(now);
        Ok(OpenedSession {
            id,
            journal,
            refresh,
            expires_at,
        })
    }

    /// The session `sid` (its id and end) with its owner, if it is live and belongs to
    /// `sub` (the claims of an access token): a revocation takes effect on the next
    /// request.
    pub async fn live_with_owner(
        &self,
        sid: Uuid,
        sub: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Uuid, DateTime<Utc>, UserRow), AuthError> {
        let (session, owner) = self
            .sessions
            .find_with_user(sid)
            .await?
            .filter(|(s, _)| s.user_id == sub && is_live(s, now))
            .ok_or(AuthError::Unauthenticated("session has ended"))?;
        Ok((session.id, session.expires_at, owner))
    }

    /// When the session last fully authenticated; `None` when there is no such session.
    /// The caller's credential was checked in this request, so liveness is not judged
    /// again here.
    pub async fn last_authenticated(&self, id: Uuid) -> Result<Option<DateTime<Utc>>, AuthError> {
        Ok(self.sessions.find(id).await?.map(|s| authenticated_at(&s)))
    }

    /// Records a full authentication of the live session `id` and returns the session as
    /// it now is; `Unauthenticated` when it has ended meanwhile.
    pub async fn record_authentication(
        &self,
        id: Uuid,
        method: AuthenticationMethod,
        now: DateTime<Utc>,
    ) -> Result<SessionRow, AuthError> {
        const ENDED: AuthError = AuthError::Unauthenticated("session has ended");
        if !self
            .sessions
            .record_authentication(id, method.as_str(), now)
            .await?
        {
            return Err(ENDED);
        }
        self.sessions.find(id).await?.ok_or(ENDED)
    }

    /// Supersedes the presented refresh token with a successor. A token superseded within
    /// the grace window (two tabs refreshing at once, a retried request) gets the successor
    /// it was already given, never another; after it, the session ends
    /// ([`Rotation::Reused`]).
    pub async fn rotate(
        &self,
        presented: &str,
        client: &ClientMeta,
        now: DateTime<Utc>,
    ) -> Result<Rotation, AuthError> {
        let token = RefreshToken::parse(presented).ok_or(UNKNOWN_REFRESH_TOKEN)?;
        let hash = token.hash();
        let mut record = self
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

        if record.superseded_at.is_none() {
            let seed = SuccessorSeed::generate();
            let successor = token.successor(&seed);
            let won = self
                .sessions
                .rotate(
                    session.id,
                    hash.as_str(),
                    (successor.hash().as_str(), seed.expose()),
                    now,
                )
                .await?;
            if won {
                count_refresh(RefreshOutcome::Rotated);
                return Ok(Rotation::Rotated(Rotated { session, successor }));
            }
            // Another refresh superseded it a moment ago: judge it as superseded then, with
            // the seed that refresh kept.
            record = self
                .sessions
                .find_token(hash.as_str())
                .await?
                .ok_or(UNKNOWN_REFRESH_TOKEN)?;
        }
        match classify(record.superseded_at.or(Some(now)), now, self.reuse_grace) {
            Presented::Current | Presented::WithinGrace => {
                // A row superseded before successors were derived has no seed: its holder
                // logs in again.
                let seed = record.successor_seed.ok_or(UNKNOWN_REFRESH_TOKEN)?;
                let successor = token.successor(&SuccessorSeed::from_stored(seed.0));
                count_refresh(RefreshOutcome::Grace);
                Ok(Rotation::Rotated(Rotated { session, successor }))
            }
            Presented::Reused => {
                const REASON: &str = "refresh_token_reused";
                let mut journal = Journal::of(
                    NewAuthEvent::new(AuthEventKind::RefreshReused, now)
                        .user(session.user_id)
                        .session(Some(session.id))
                        .client(client),
                )
                .per_ended_session(session_ended(
                    session.user_id,
                    REASON,
                    client,
                    now,
                ));
                self.sessions
                    .revoke(session.id, REASON, &mut journal, now)
                    .await?;
                tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reused: session revoked");
                count_refresh(RefreshOutcome::ReuseDetected);
                Ok(Rotation::Reused(journal))
            }
        }
    }

    /// The live session a refresh token may end: only a token that could still refresh
    /// (current, or superseded within the grace window) has that authority. A superseded
    /// or stolen-and-replaced token, or one of a session already ended, ends nothing, so
    /// an old token cannot be used to log its owner out of newer sessions.
    pub async fn session_to_end(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, AuthError> {
        let Some(token) = RefreshToken::parse(presented) else {
            return Ok(None);
        };
        let hash = token.hash();
        let Some(record) = self.sessions.find_token(hash.as_str()).await? else {
            return Ok(None);
        };
        if !hash.matches(&TokenHash::from_stored(
            record.token_hash.expose().to_owned(),
        )) || classify(record.superseded_at, now, self.reuse_grace) == Presented::Reused
        {
            return Ok(None);
        }
        Ok(self
            .sessions
            .find(record.session_id)
            .await?
            .filter(|s| is_live(s, now))
            .map(|s| s.id))
    }

    /// Ends one session (`why` is recorded), writing the events `events` makes for its
    /// owner in the same transaction; `true` when it was live. The journal comes back
    /// to be published.
    pub async fn end(
        &self,
        id: Uuid,
        why: &'static str,
        events: impl FnOnce(Uuid) -> Journal,
        now: DateTime<Utc>,
    ) -> Result<(bool, Journal), AuthError> {
        let Some(session) = self.sessions.find(id).await? else {
            return Ok((false, Journal::new()));
        };
        let mut journal = events(session.user_id);
        let ended = self.sessions.revoke(id, why, &mut journal, now).await?;
        Ok((ended, journal))
    }

    /// Ends every session of the user the live session `id` belongs to, and names that
    /// user; `None` when `id` is not a live session. An ended session has no authority
    /// over the others.
    pub async fn end_all_of_owner(
        &self,
        id: Uuid,
        why: &'static str,
        events: impl FnOnce(Uuid) -> Journal,
        now: DateTime<Utc>,
    ) -> Result<Option<(Uuid, Journal)>, AuthError> {
        let Some(session) = self.sessions.find(id).await?.filter(|s| is_live(s, now)) else {
            return Ok(None);
        };
        let mut journal = events(session.user_id);
        self.sessions
            .revoke_all_for(session.user_id, why, &mut journal, now)
            .await?;
        Ok(Some((session.user_id, journal)))
    }

    /// Ends one of `owner`'s sessions, writing `journal` with it; `false` when it is
    /// unknown, ended, or someone else's.
    pub async fn end_owned(
        &self,
        id: Uuid,
        owner: Uuid,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        Ok(self
            .sessions
            .revoke_owned(id, owner, "revoked_by_user", journal, now)
            .await?)
    }

    /// The session with this id, live or ended; `None` once its row is gone (its account
    /// was deleted, or it ended long ago).
    pub async fn find(&self, id: Uuid) -> Result<Option<SessionRow>, AuthError> {
        Ok(self.sessions.find(id).await?)
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

impl SessionLedger {
    /// Deletes, in the background, the sessions that ended longer than `retention` ago,
    /// at most once an hour per instance. Logins drive it: where nobody logs in, nothing
    /// new ends either, except by expiry, which the next login catches up with.
    fn prune_if_due(&self, now: DateTime<Utc>) {
        {
            let mut last = self
                .last_prune
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| now < at + PRUNE_INTERVAL) {
                return;
            }
            *last = Some(now);
        }
        let Some(before) = chrono::Duration::from_std(self.retention)
            .ok()
            .and_then(|retention| now.checked_sub_signed(retention))
        else {
            return;
        };
        let sessions = self.sessions.clone();
        tokio::spawn(async move {
            match sessions.delete_ended(before).await {
                Ok(deleted) => tracing::debug!(deleted, "ended sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete ended sessions"),
            }
        });
    }
}

/// The session's last full authentication; a session opened before it was recorded was
/// last authenticated at its login.
pub fn authenticated_at(session: &SessionRow) -> DateTime<Utc> {
    session.authenticated_at.unwrap_or(session.created_at)
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

/// The `SESSION_REVOKED` event of each session a change ends (its id is added per
/// session): why, and from where the change came.
pub fn session_ended(
    owner: Uuid,
    reason: &'static str,
    client: &ClientMeta,
    now: DateTime<Utc>,
) -> NewAuthEvent {
    NewAuthEvent::new(AuthEventKind::SessionRevoked, now)
        .user(owner)
        .client(client)
        .detail("reason", reason)
}
