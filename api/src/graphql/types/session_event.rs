use async_graphql::{Enum, ID, SimpleObject};

use super::DateTime;
use crate::auth::events::notice::{self, SessionNotice};

/// What `sessionEvents` tells an open tab about its account.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "notice::NoticeKind")]
pub enum SessionEventKind {
    /// A session of the account ended: `sessionId` says which, `reason` why. When it is
    /// the subscriber's own (`current`), the socket closes next with code 4401.
    SessionRevoked,
    /// The account's password was changed (`reason` `PASSWORD_CHANGED`) or reset
    /// through a reset link (`PASSWORD_RESET`).
    PasswordChanged,
    /// A refresh token of the session `sessionId` was presented again after it was
    /// rotated (a sign of theft); that session is revoked (a `SESSION_REVOKED` follows).
    RefreshReused,
    /// TOTP was turned on or off (`totpEnabled`).
    TotpChanged,
}

/// Why a session ended, or how a password was set.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "notice::EndReason")]
pub enum SessionEndReason {
    /// Its owner revoked it from another session (`revokeSession`).
    Revoked,
    /// `logout` of that session.
    Logout,
    /// `logout(allSessions: true)` from one of the account's sessions.
    LogoutAll,
    /// Its refresh token was presented again after rotation.
    RefreshReused,
    /// The password was changed by its owner.
    PasswordChanged,
    /// The password was set through a reset link.
    PasswordReset,
    /// An operator deleted the account.
    AccountDeleted,
    /// It reached the end of its life (`session_ttl`).
    Expired,
    /// A reason this version of the server does not name.
    Other,
}

/// One thing that happened to the subscriber's account, pushed by `sessionEvents`.
#[derive(SimpleObject, Debug, Clone)]
pub struct SessionEvent {
    /// The id of the security event it comes from (as in `myAuthEvents`); a client may
    /// drop one it has seen.
    pub event_id: ID,
    /// What happened.
    pub kind: SessionEventKind,
    /// When it happened.
    pub occurred_at: DateTime,
    /// The session it concerns (as in `sessions`), if any.
    pub session_id: Option<ID>,
    /// Whether `sessionId` is the subscriber's own session.
    pub current: bool,
    /// `SESSION_REVOKED`: why the session ended. `PASSWORD_CHANGED`: how the password
    /// was set. Null otherwise.
    pub reason: Option<SessionEndReason>,
    /// `TOTP_CHANGED`: whether TOTP is now on. Null otherwise.
    pub totp_enabled: Option<bool>,
}

impl From<SessionNotice> for SessionEvent {
    fn from(notice: SessionNotice) -> Self {
        SessionEvent {
            event_id: ID(notice.event_id.to_string()),
            kind: notice.kind.into(),
            occurred_at: notice.occurred_at.into(),
            session_id: notice.session_id.map(|id| ID(id.to_string())),
            current: notice.current,
            reason: notice.reason.map(Into::into),
            totp_enabled: notice.totp_enabled,
        }
    }
}
