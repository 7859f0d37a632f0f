use async_graphql::{ID, SimpleObject};

use super::{DateTime, Role};
use crate::auth::accounts::account::Account;

/// An account.
#[derive(SimpleObject, Debug, Clone)]
pub struct User {
    /// Stable identifier (a UUID). Also `credentials.identityId`.
    pub id: ID,
    /// The username as registered; unique without regard to case.
    pub username: String,
    /// The email address, lower-cased; unique.
    pub email: Option<String>,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
    /// When the account was created.
    pub created: DateTime,
    /// When the current password stops being accepted; null when passwords do not age.
    pub password_expiration: Option<DateTime>,
    /// Whether logging in needs a one-time password.
    pub totp_enabled: bool,
    /// Whether `email` was proved to reach the owner (`verifyEmail`, a password reset
    /// through it, or `confirmEmailChange`, which sets it). False when there is no email.
    pub email_verified: bool,
    /// What the account may do.
    pub role: Role,
}

impl From<Account> for User {
    fn from(account: Account) -> Self {
        User {
            id: ID(account.id.to_string()),
            username: account.username,
            email: account.email,
            firstname: account.firstname,
            lastname: account.lastname,
            created: account.created_at.into(),
            password_expiration: account.password_expires_at.map(Into::into),
            totp_enabled: account.totp_enabled,
            email_verified: account.email_verified,
            role: account.role.into(),
        }
    }
}
