//! What an open tab is told about its account (the `sessionEvents` subscription): the
//! few security events a frontend acts on, mapped from the event log's kinds, and whether
//! one ends the subscriber's own session.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::event::AuthEvent;
use super::kind::AuthEventKind;

/// The kinds a subscriber hears of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A session of the account ended (`reason` says why).
    SessionRevoked,
    /// The password was changed, or set through a reset link.
    PasswordChanged,
    /// A refresh token came back after its rotation; its session was revoked.
    RefreshReused,
    /// TOTP was turned on or off.
    TotpChanged,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its owner revoked it from another session (`revokeSession`).
    Revoked,
    /// `logout` of that session.
    Logout,
    /// `logout(allSessions: true)` from one of the account's sessions.
    LogoutAll,
    /// Its refresh token was presented again after rotation.
    RefreshReused,
    /// The password was changed.
    PasswordChanged,
    /// The password was reset through a reset link.
    PasswordReset,
    /// An operator deleted the account.
    AccountDeleted,
    /// It reached the end of its life (`session_ttl`).
    Expired,
    /// A reason this version does not name.
    Other,
}

impl EndReason {
    /// The name clients see, in the close frame's reason too.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Revoked => "REVOKED",
            EndReason::Logout => "LOGOUT",
            EndReason::LogoutAll => "LOGOUT_ALL",
            EndReason::RefreshReused => "REFRESH_REUSED",
            EndReason::PasswordChanged => "PASSWORD_CHANGED",
            EndReason::PasswordReset => "PASSWORD_RESET",
            EndReason::AccountDeleted => "ACCOUNT_DELETED",
            EndReason::Expired => "EXPIRED",
            EndReason::Other => "OTHER",
        }
    }

    /// The reason a session row or a `SESSION_REVOKED` event records (`revoked_reason`,
    /// `detail.reason`).
    pub fn from_recorded(reason: Option<&str>) -> EndReason {
        match reason {
            Some("revoked_by_user") => EndReason::Revoked,
            Some("logout") => EndReason::Logout,
            Some("logout_all") => EndReason::LogoutAll,
            Some("refresh_token_reused") => EndReason::RefreshReused,
            Some("password_changed") => EndReason::PasswordChanged,
            Some("password_reset") => EndReason::PasswordReset,
            _ => EndReason::Other,
        }
    }
}

/// One thing a subscriber is told.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionNotice {
    /// The log event it comes from: clients may use it to drop a duplicate.
    pub event_id: i64,
    pub occurred_at: DateTime<Utc>,
    pub kind: NoticeKind,
    /// The session it concerns, if any.
    pub session_id: Option<Uuid>,
    /// Whether that session is the subscriber's own.
    pub current: bool,
    /// Why the session ended (`SessionRevoked`), or how the password was set
    /// (`PasswordChanged`: `PasswordChanged` or `PasswordReset`).
    pub reason: Option<EndReason>,
    /// `TotpChanged`: whether TOTP is now on.
    pub totp_enabled: Option<bool>,
}

impl SessionNotice {
    /// The notice `event` makes for a subscriber of `account` on session `own`; `None`
    /// when it is another account's, or of a kind subscribers are not told of.
    pub fn from_event(event: &AuthEvent, account: Uuid, own: Uuid) -> Option<SessionNotice> {
        if event.user_id != Some(account) {
            return None;
        }
        let notice = |kind, session_id: Option<Uuid>| SessionNotice {
            event_id: event.id,
            occurred_at: event.occurred_at,
            kind,
            session_id,
            current: session_id == Some(own),
            reason: None,
            totp_enabled: None,
        };
        let recorded_reason = event.detail.get("reason").and_then(|r| r.as_str());
        Some(match event.kind? {
            AuthEventKind::SessionRevoked => SessionNotice {
                reason: Some(EndReason::from_recorded(recorded_reason)),
                ..notice(NoticeKind::SessionRevoked, event.session_id)
            },
            // Deleting an account ends its sessions without an event for each: the
            // subscriber's own is one of them.
            AuthEventKind::AccountDeleted => SessionNotice {
                reason: Some(EndReason::AccountDeleted),
                ..notice(NoticeKind::SessionRevoked, Some(own))
            },
            AuthEventKind::PasswordChanged => SessionNotice {
                reason: Some(EndReason::PasswordChanged),
                ..notice(NoticeKind::PasswordChanged, event.session_id)
            },
            AuthEventKind::PasswordReset => SessionNotice {
                reason: Some(EndReason::PasswordReset),
                ..notice(NoticeKind::PasswordChanged, event.session_id)
            },
            AuthEventKind::RefreshReused => notice(NoticeKind::RefreshReused, event.session_id),
            AuthEventKind::TotpEnabled | AuthEventKind::TotpDisabled => SessionNotice {
                totp_enabled: Some(event.kind == Some(AuthEventKind::TotpEnabled)),
                ..notice(NoticeKind::TotpChanged, event.session_id)
            },
            _ => return None,
        })
    }

    /// Why the subscriber's own session ended, when this notice says it did.
    pub fn ends_own_session(&self) -> Option<EndReason> {
        (self.kind == NoticeKind::SessionRevoked && self.current)
            .then(|| self.reason.unwrap_or(EndReason::Other))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::events::NewAuthEvent;

    fn event(kind: AuthEventKind, user: Uuid, session: Option<Uuid>) -> NewAuthEvent {
        NewAuthEvent::new(kind, DateTime::<Utc>::UNIX_EPOCH)
            .user(user)
            .session(session)
    }

    fn notice(new: NewAuthEvent, account: Uuid, own: Uuid) -> Option<SessionNotice> {
        SessionNotice::from_event(&AuthEvent::written(7, new), account, own)
    }

    #[test]
    fn another_accounts_events_make_no_notice() {
        let (me, other, own) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for kind in AuthEventKind::ALL {
            assert_eq!(
                notice(event(kind, other, Some(own)), me, own),
                None,
                "{kind}"
            );
        }
        let anonymous = NewAuthEvent::new(AuthEventKind::LoginFailed, DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(notice(anonymous, me, own), None);
    }

    #[test]
    fn a_revoke_of_the_own_session_ends_it_and_of_another_does_not() {
        let (me, own, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let revoked = |session| {
            event(AuthEventKind::SessionRevoked, me, Some(session)).detail("reason", "logout")
        };
        let mine = notice(revoked(own), me, own).unwrap();
        assert_eq!(mine.kind, NoticeKind::SessionRevoked);
        assert!(mine.current);
        assert_eq!(mine.ends_own_session(), Some(EndReason::Logout));
        let theirs = notice(revoked(other), me, own).unwrap();
        assert!(!theirs.current);
        assert_eq!(theirs.session_id, Some(other));
        assert_eq!(theirs.ends_own_session(), None);
    }

    #[test]
    fn kinds_map_to_the_four_notices() {
        let (me, own) = (Uuid::new_v4(), Uuid::new_v4());
        let kind_of = |kind| notice(event(kind, me, None), me, own).map(|n| n.kind);
        assert_eq!(
            kind_of(AuthEventKind::PasswordChanged),
            Some(NoticeKind::PasswordChanged)
        );
        assert_eq!(
            kind_of(AuthEventKind::PasswordReset),
            Some(NoticeKind::PasswordChanged)
        );
        assert_eq!(
            kind_of(AuthEventKind::RefreshReused),
            Some(NoticeKind::RefreshReused)
        );
        assert_eq!(
            kind_of(AuthEventKind::TotpEnabled),
            Some(NoticeKind::TotpChanged)
        );
        assert_eq!(kind_of(AuthEventKind::LoginSucceeded), None);
        assert_eq!(kind_of(AuthEventKind::LoggedOut), None);
        let off = notice(event(AuthEventKind::TotpDisabled, me, None), me, own).unwrap();
        assert_eq!(off.totp_enabled, Some(false));
        let deleted = notice(event(AuthEventKind::AccountDeleted, me, None), me, own).unwrap();
        assert_eq!(deleted.ends_own_session(), Some(EndReason::AccountDeleted));
    }

    #[test]
    fn recorded_reasons_are_named() {
        assert_eq!(
            EndReason::from_recorded(Some("revoked_by_user")),
            EndReason::Revoked
        );
        assert_eq!(
            EndReason::from_recorded(Some("refresh_token_reused")),
            EndReason::RefreshReused
        );
        assert_eq!(
            EndReason::from_recorded(Some("something new")),
            EndReason::Other
        );
        assert_eq!(EndReason::from_recorded(None), EndReason::Other);
    }
}
