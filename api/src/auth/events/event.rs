//! One security event: as the domain makes it ([`NewAuthEvent`]) and as the log holds it
//! ([`AuthEvent`]).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::kind::AuthEventKind;
use crate::auth::client::ClientMeta;

/// Longest user agent kept on an event, in characters (the same bound as on sessions).
const USER_AGENT_MAX_CHARS: usize = 512;
/// Longest client address kept; an IPv6 address with a zone fits.
const ADDRESS_MAX_CHARS: usize = 64;

/// An event about to be written with the change it records.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuthEvent {
    /// From the injected clock: the same `now` as the change.
    pub occurred_at: DateTime<Utc>,
    pub kind: AuthEventKind,
    /// The account it happened to; `None` for a failed login naming no account, and for
    /// operators' changes to apps.
    pub user_id: Option<Uuid>,
    /// The session it concerns (the one opened, ended, or acting), if any.
    pub session_id: Option<Uuid>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    /// A small JSON object; never a secret.
    pub detail: Map<String, Value>,
}

impl NewAuthEvent {
    pub fn new(kind: AuthEventKind, occurred_at: DateTime<Utc>) -> NewAuthEvent {
        NewAuthEvent {
            occurred_at,
            kind,
            user_id: None,
            session_id: None,
            client_address: None,
            user_agent: None,
            detail: Map::new(),
        }
    }

    #[must_use]
    pub fn user(mut self, user_id: Uuid) -> NewAuthEvent {
        self.user_id = Some(user_id);
        self
    }

    #[must_use]
    pub fn session(mut self, session_id: Option<Uuid>) -> NewAuthEvent {
        self.session_id = session_id;
        self
    }

    /// Where the request came from (none for CLI commands).
    #[must_use]
    pub fn client(mut self, client: &ClientMeta) -> NewAuthEvent {
        self.client_address = client.ip.as_deref().map(|a| bounded(a, ADDRESS_MAX_CHARS));
        self.user_agent = client
            .user_agent
            .as_deref()
            .map(|ua| bounded(ua, USER_AGENT_MAX_CHARS));
        self
    }

    /// Adds one detail field. Callers pass only values that are not secrets (ids, names,
    /// reasons, counts): this is the one place a detail is made, easy to review.
    #[must_use]
    pub fn detail(mut self, key: &'static str, value: impl Into<Value>) -> NewAuthEvent {
        self.detail.insert(key.to_owned(), value.into());
        self
    }

    /// Adds one detail field when there is a value.
    #[must_use]
    pub fn detail_opt(self, key: &'static str, value: Option<impl Into<Value>>) -> NewAuthEvent {
        match value {
            Some(value) => self.detail(key, value),
            None => self,
        }
    }

    /// The same event about another session: one `SESSION_REVOKED` per session ended.
    #[must_use]
    pub fn for_session(&self, session_id: Uuid) -> NewAuthEvent {
        let mut event = self.clone();
        event.session_id = Some(session_id);
        event
    }
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthEvent {
    /// Increases with every event written: the order of the log and the cursor of readers
    /// that catch up.
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// `None` for a name this version does not know (written by a newer version).
    pub kind: Option<AuthEventKind>,
    /// The stored name, always there.
    pub kind_name: String,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Map<String, Value>,
}

impl AuthEvent {
    /// The event `new` became when written with `id`.
    pub fn written(id: i64, new: NewAuthEvent) -> AuthEvent {
        AuthEvent {
            id,
            occurred_at: new.occurred_at,
            kind: Some(new.kind),
            kind_name: new.kind.as_str().to_owned(),
            user_id: new.user_id,
            session_id: new.session_id,
            client_address: new.client_address,
            user_agent: new.user_agent,
            detail: new.detail,
        }
    }
}

fn bounded(value: &str, max_chars: usize) -> String {
    match value.char_indices().nth(max_chars) {
        Some((index, _)) => value.get(..index).unwrap_or(value).to_owned(),
        None => value.to_owned(),
    }
}
