//! A user's view of their own login sessions: listing them and ending one.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ledger::session_ended;
use crate::auth::client::ClientMeta;
use crate::store::auth_events::Journal;

use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::principal::Principal;
use crate::store::sessions::SessionRow;

use super::ledger::authenticated_at;

/// A live login session, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The last login or refresh on this session. Requests with its access token do not
    /// count: recording each would cost a write per request.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The last full authentication: the login, or a later `reauthenticate`. Refreshing
    /// does not move it.
    pub authenticated_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether the caller's own access token belongs to it.
    pub current: bool,
}

impl LiveSession {
    pub(super) fn of(row: SessionRow, current: bool) -> LiveSession {
        LiveSession {
            authenticated_at: authenticated_at(&row),
            current,
            id: row.id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            user_agent: row.user_agent,
            ip: row.ip,
        }
    }
}

impl Authenticator {
    /// The caller's sessions that are neither revoked nor expired, newest first.
    pub async fn sessions(&self, who: &Principal) -> Result<Vec<LiveSession>, AuthError> {
        let rows = self.sessions.live_of(who.user_id, self.now()).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let current = who.session_id() == Some(row.id);
                LiveSession::of(row, current)
            })
            .collect())
    }

    /// Ends one of the caller's own sessions. `false` when the id is unknown, already
    /// ended, or someone else's: the same answer, so it reveals nothing about other users.
    pub async fn revoke_session(
        &self,
        who: &Principal,
        id: &str,
        client: &ClientMeta,
    ) -> Result<bool, AuthError> {
        let id = Uuid::parse_str(id.trim())
            .map_err(|_| AuthError::bad_input("id", "is not a session id"))?;
        let now = self.now();
        let mut journal = Journal::new().per_ended_session(
            session_ended(who.user_id, "revoked_by_user", client, now)
                .detail_opt("bySession", who.session_id().map(|s| s.to_string())),
        );
        let ended = self
            .sessions
            .end_owned(id, who.user_id, &mut journal, now)
            .await?;
        self.publish(journal);
        if ended {
            tracing::info!(user_id = %who.user_id, session_id = %id, "session revoked by its owner");
        }
        Ok(ended)
    }
}
