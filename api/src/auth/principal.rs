//! Who is making a request, once their credential has been checked.

use std::sync::Arc;

use uuid::Uuid;

use super::accounts::account::Account;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub credential: CredentialKind,
    /// The account as read together with the credential, so a request that only wants
    /// its own account (`me`) costs no second query.
    pub account: Arc<Account>,
}

/// What the request authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// An access token of this login session (its `sid`).
    Session(Uuid),
    /// The personal token (auth header) with this id.
    PersonalToken(Uuid),
}

impl Principal {
    /// The login session behind the credential; `None` for a personal token.
    pub fn session_id(&self) -> Option<Uuid> {
        match self.credential {
            CredentialKind::Session(id) => Some(id),
            CredentialKind::PersonalToken(_) => None,
        }
    }
}
