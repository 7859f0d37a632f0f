//! The rules a frontend shows before it asks (`authPolicy`): read from the live settings,
//! so a form can never disagree with the server that will judge it.

use std::time::Duration;

use super::account::TokenMode;
use super::service::Authenticator;
use super::values::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

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
            signup_enabled: self.policy.signup,
            password_min_length: PASSWORD_MIN_CHARS,
            password_max_length: PASSWORD_MAX_CHARS,
            password_max_age_days: self
                .policy
                .password_max_age
                .map(|age| age.as_secs().div_ceil(SECONDS_PER_DAY)),
            access_token_ttl: self.tokens.ttl(),
            session_ttl: self.policy.session_ttl,
            modes: vec![TokenMode::Json, TokenMode::Cookie, TokenMode::Session],
            api_keys_required: self.policy.api_keys_required,
        }
    }
}
