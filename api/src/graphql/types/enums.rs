use async_graphql::Enum;

use crate::auth::accounts::account;
use crate::auth::sessions::token_mode;

/// How `login` and `refresh` deliver tokens.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// Access and refresh token in the response body; the access token also in the
    /// `Authorization: Bearer` response header. For servers, mobile apps and Safari.
    Json,
    /// Access token in the body; the refresh token only in an httpOnly cookie, out of
    /// reach of scripts.
    Cookie,
    /// Both tokens only in httpOnly cookies; the body carries no token. For browser
    /// apps that call with `credentials: 'include'`.
    Session,
}

impl From<TokenMode> for token_mode::TokenMode {
    fn from(mode: TokenMode) -> Self {
        match mode {
            TokenMode::Json => token_mode::TokenMode::Json,
            TokenMode::Cookie => token_mode::TokenMode::Cookie,
            TokenMode::Session => token_mode::TokenMode::Session,
        }
    }
}

impl From<token_mode::TokenMode> for TokenMode {
    fn from(mode: token_mode::TokenMode) -> Self {
        match mode {
            token_mode::TokenMode::Json => TokenMode::Json,
            token_mode::TokenMode::Cookie => TokenMode::Cookie,
            token_mode::TokenMode::Session => TokenMode::Session,
        }
    }
}

/// What an account may do.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A regular account: sees and manages only itself.
    User,
    /// An administrator: may also look up other accounts.
    Admin,
}

impl From<account::Role> for Role {
    fn from(role: account::Role) -> Self {
        match role {
            account::Role::User => Role::User,
            account::Role::Admin => Role::Admin,
        }
    }
}
