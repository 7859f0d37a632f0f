//! Who is making a request, once their credential has been checked.

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub credential: CredentialKind,
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
