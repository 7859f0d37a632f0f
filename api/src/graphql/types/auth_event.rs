use async_graphql::{Enum, ID, InputObject, Json, SimpleObject};

use super::DateTime;
use crate::auth::events::log::{EventPage, cursor_of};
use crate::auth::events::{self, AuthEvent as DomainEvent};

/// What happened, in the security event log. docs/api.md lists the `detail` of each.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "events::AuthEventKind")]
pub enum AuthEventKind {
    /// An account was created: by sign-up (`register`) or by an operator (`user add`).
    AccountCreated,
    /// An account was deleted by an operator.
    AccountDeleted,
    /// A login opened a session.
    LoginSucceeded,
    /// A login was refused: wrong password or one-time password (`detail.reason`).
    LoginFailed,
    /// A failed login locked the account for a while (`detail.lockedForSeconds`).
    LoginLocked,
    /// A rotated refresh token came back after its grace window; its session was revoked.
    RefreshReused,
    /// `logout` was called for this session.
    LoggedOut,
    /// A session ended before its time; `detail.reason` says why.
    SessionRevoked,
    /// The password was changed.
    PasswordChanged,
    /// The password was set through a reset link.
    PasswordReset,
    /// The email address was verified.
    EmailVerified,
    /// The email address was changed.
    EmailChanged,
    /// TOTP was turned on.
    TotpEnabled,
    /// TOTP was turned off.
    TotpDisabled,
    /// A personal token was created.
    PersonalTokenCreated,
    /// A personal token was deleted.
    PersonalTokenDeleted,
    /// A project API key (app) was created by an operator.
    AppKeyCreated,
    /// A project API key (app) was deleted by an operator.
    AppKeyRevoked,
    /// An account's role was changed by an operator.
    RoleChanged,
}

/// One entry of the security event log. It never holds a secret.
#[derive(SimpleObject, Debug, Clone)]
pub struct AuthEvent {
    /// The event's id; larger ids were written later.
    pub id: ID,
    /// When it happened.
    pub occurred_at: DateTime,
    /// What happened.
    pub kind: AuthEventKind,
    /// The account it happened to; null for a failed login naming no account, and for
    /// operators' changes to apps.
    pub user_id: Option<ID>,
    /// The session it concerns, if any.
    pub session_id: Option<ID>,
    /// The address the request came from (the TCP peer); null for operators' commands.
    pub client_address: Option<String>,
    /// The `User-Agent` of the request; null for operators' commands.
    pub user_agent: Option<String>,
    /// A small JSON object of facts about the event (see docs/api.md).
    pub detail: Json<serde_json::Map<String, serde_json::Value>>,
}

/// An event and where it sits in the list.
#[derive(SimpleObject, Debug, Clone)]
pub struct AuthEventEdge {
    /// Pass as `after` to continue after this event.
    pub cursor: String,
    /// The event.
    pub node: AuthEvent,
}

/// Where a page of a list sits (Relay).
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Always false: lists are read forwards only, with `first` and `after`.
    pub has_previous_page: bool,
    /// The cursor of the first item of the page; null for an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item of the page; null for an empty page.
    pub end_cursor: Option<String>,
}

/// A page of security events, newest first (Relay connection).
#[derive(SimpleObject, Debug, Clone)]
pub struct AuthEventConnection {
    /// The events of this page, newest first.
    pub edges: Vec<AuthEventEdge>,
    /// Whether more follow, and the cursor to ask for them with.
    pub page_info: PageInfo,
}

/// Which events an admin wants; every field given must match.
#[derive(InputObject, Debug, Clone, Default)]
pub struct AuthEventFilter {
    /// Only this account's events.
    pub user_id: Option<ID>,
    /// Only events of this kind.
    pub kind: Option<AuthEventKind>,
    /// Only events at or after this instant.
    pub from: Option<DateTime>,
    /// Only events before this instant.
    pub until: Option<DateTime>,
}

impl AuthEvent {
    /// `None` for a kind this version does not know (written by a newer version).
    fn of(event: DomainEvent) -> Option<AuthEvent> {
        Some(AuthEvent {
            id: ID(event.id.to_string()),
            occurred_at: event.occurred_at.into(),
            kind: event.kind?.into(),
            user_id: event.user_id.map(|id| ID(id.to_string())),
            session_id: event.session_id.map(|id| ID(id.to_string())),
            client_address: event.client_address,
            user_agent: event.user_agent,
            detail: Json(event.detail),
        })
    }
}

impl From<EventPage> for AuthEventConnection {
    fn from(page: EventPage) -> Self {
        let edges: Vec<AuthEventEdge> = page
            .events
            .into_iter()
            .filter_map(|event| {
                let cursor = cursor_of(&event);
                AuthEvent::of(event).map(|node| AuthEventEdge { cursor, node })
            })
            .collect();
        AuthEventConnection {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: false,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: page.end_cursor,
            },
            edges,
        }
    }
}
