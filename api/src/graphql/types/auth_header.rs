use async_graphql::{ID, SimpleObject};

use super::DateTime;
use crate::auth::personal_tokens::management::{NewPersonalToken, PersonalToken};

/// A personal token ("auth header"): a long-lived credential for scripts and servers,
/// sent as `Authorization: Bearer lk_...`. Listings never show the token itself.
#[derive(SimpleObject, Debug, Clone)]
pub struct AuthHeader {
    /// Its id; pass it to `deleteAuthHeader(id:)`.
    pub id: ID,
    /// Your label for it, unique among your auth headers.
    pub name: String,
    /// `lk_` and the first characters of the token: enough to recognise it, not to use it.
    pub prefix: String,
    /// When it was made.
    pub created: DateTime,
    /// When it was last used, to the minute (uses are recorded at most once a minute).
    pub last_used_at: Option<DateTime>,
    /// When it stops working; null if it never expires.
    pub expires_at: Option<DateTime>,
}

/// A personal token just made. The only time `token` is shown: store it now.
#[derive(SimpleObject)]
pub struct NewAuthHeader {
    /// The new auth header as listings will show it.
    pub auth_header: AuthHeader,
    /// The token (`lk_...`), shown this once; only its hash is kept.
    pub token: String,
}

impl std::fmt::Debug for NewAuthHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAuthHeader")
            .field("auth_header", &self.auth_header)
            .finish_non_exhaustive()
    }
}

impl From<PersonalToken> for AuthHeader {
    fn from(token: PersonalToken) -> Self {
        AuthHeader {
            id: ID(token.id.to_string()),
            name: token.name,
            prefix: token.prefix,
            created: token.created_at.into(),
            last_used_at: token.last_used_at.map(Into::into),
            expires_at: token.expires_at.map(Into::into),
        }
    }
}

impl From<NewPersonalToken> for NewAuthHeader {
    fn from(new: NewPersonalToken) -> Self {
        NewAuthHeader {
            token: new.token.expose().to_owned(),
            auth_header: new.listed.into(),
        }
    }
}
