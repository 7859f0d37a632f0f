//! One error type for the domain, one variant per client-visible outcome.
//!
//! The GraphQL layer maps each variant to an `extensions.code` and status in one table
//! (`graphql/errors.rs`); `Internal` carries the cause for the log and nothing for the client.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong password or unknown user: deliberately one variant, so one message.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// No, malformed or forged token, or one whose session has ended.
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("access token expired")]
    TokenExpired,
    #[error("one-time password required")]
    OtpRequired,
    #[error("invalid one-time password")]
    InvalidOtp,
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error("password expired")]
    PasswordExpired,
    /// `require_verified_email` is on and the account's address is not verified yet.
    #[error("email not verified")]
    EmailNotVerified,
    /// The operation creates or removes a long-lived credential or a factor, and the
    /// caller's session last fully authenticated longer ago than the window (or the caller
    /// has no session): `reauthenticate`, or give the password in the call.
    #[error("recent authentication required")]
    ReauthRequired { within_secs: u64 },
    #[error("{0}")]
    Forbidden(&'static str),
    /// The field (`username`, `email`, ...) whose value is taken.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    #[error("{field}: {reason}")]
    BadInput { field: &'static str, reason: String },
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    /// The database (or another component a request needs) does not answer: nothing
    /// was decided, and the client may retry later.
    #[error("service unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AuthError {
    /// Whether the database was out of reach somewhere in this error's causes: an
    /// `Internal` error that wrapped a store error in context is still an outage, not a
    /// fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            AuthError::Unavailable => true,
            AuthError::Internal(cause) => cause.chain().any(|e| {
                matches!(e.downcast_ref(), Some(StoreError::Unavailable(_)))
                    || e.downcast_ref::<sea_orm::DbErr>()
                        .is_some_and(crate::store::is_unavailable)
            }),
            _ => false,
        }
    }

    pub fn bad_input(field: &'static str, reason: impl Into<String>) -> Self {
        AuthError::BadInput {
            field,
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(field) => AuthError::Conflict(field),
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                AuthError::Unavailable
            }
            StoreError::Db(e) => AuthError::Internal(anyhow::Error::new(e).context("database")),
            StoreError::Corrupt(what) => {
                AuthError::Internal(anyhow::anyhow!("corrupt row: {what}"))
            }
            unsealable @ StoreError::Unsealable { .. } => {
                AuthError::Internal(anyhow::Error::new(unsealable).context("sealed secret"))
            }
        }
    }
}
