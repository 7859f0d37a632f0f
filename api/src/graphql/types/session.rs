use async_graphql::{ID, SimpleObject};

use super::DateTime;
use crate::auth::sessions::listing::LiveSession;

/// A login session: one `login` and the chain of refreshes that followed it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Session {
    /// The session's id; also the `sid` claim of its access tokens.
    pub id: ID,
    /// When the user logged in.
    pub created: DateTime,
    /// The last login or refresh on this session (requests made with its access token are
    /// not recorded).
    pub last_used_at: Option<DateTime>,
    /// When the session ends whatever happens; refreshing does not extend it.
    pub expires_at: DateTime,
    /// When the session last fully authenticated (password, plus OTP where on): the login,
    /// or a later `reauthenticate`; refreshing does not move it. Making a personal token
    /// or turning TOTP on needs it to be recent (`REAUTH_REQUIRED` otherwise).
    pub authenticated_at: DateTime,
    /// The `User-Agent` of the client that logged in.
    pub user_agent: Option<String>,
    /// The address the login came from (the TCP peer; proxies are not trusted).
    pub ip: Option<String>,
    /// Whether this is the session of the access token making the request.
    pub current: bool,
}

impl From<LiveSession> for Session {
    fn from(session: LiveSession) -> Self {
        Session {
            id: ID(session.id.to_string()),
            created: session.created_at.into(),
            last_used_at: session.last_used_at.map(Into::into),
            expires_at: session.expires_at.into(),
            authenticated_at: session.authenticated_at.into(),
            user_agent: session.user_agent,
            ip: session.ip,
            current: session.current,
        }
    }
}
