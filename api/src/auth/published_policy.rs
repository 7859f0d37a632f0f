//! The rules a frontend shows before it asks (`authPolicy`): read from the live settings,
//! so a form can never disagree with the server that will judge it.

use std::time::Duration;

use super::authenticator::Authenticator;
use super::passwords::password::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use super::sessions::token_mode::TokenMode;

/// What `authPolicy` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPolicy {
    pub signup_enabled: bool,
    pub password_min_length: usize,
    pub password_max_length: usize,
    /// Whole days, rounded up so a maximum age under a day is not reported as 0; `None`
    /// when passwords never expire.
    pub password_max_age_days: Option<u64>,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    pub modes: Vec<TokenMode>,
    pub api_keys_required: bool,
}

impl Authenticator {
    pub fn published_policy(&self) -> PublishedPolicy {
        PublishedPolicy {
            signup_enabled: self.offered.signup,
            password_min_length: PASSWORD_MIN_CHARS,
            password_max_length: PASSWORD_MAX_CHARS,
            password_max_age_days: self.accounts.password_age().max_age_days(),
            access_token_ttl: self.tokens.ttl(),
            session_ttl: self.sessions.ttl(),
            modes: vec![TokenMode::Json, TokenMode::Cookie, TokenMode::Session],
            api_keys_required: self.offered.api_keys_required,
        }
    }
}
