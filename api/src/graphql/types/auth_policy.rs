use async_graphql::SimpleObject;

use super::TokenMode;
use crate::auth::published_policy::PublishedPolicy;

/// The rules in force, for a frontend to show before it submits: sign-up, password
/// rules, token lifetimes, and what a request must carry.
#[derive(SimpleObject, Debug, Clone)]
pub struct AuthPolicy {
    /// Whether `register` is open to anyone.
    pub signup_enabled: bool,
    /// Fewest characters (Unicode characters, not bytes) a new password may have.
    pub password_min_length: i32,
    /// Most characters a password may have.
    pub password_max_length: i32,
    /// Days after which a password must be changed (rounded up); null if never.
    pub password_max_age_days: Option<i32>,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_seconds: i32,
    /// Longest life of a login session, in seconds; refreshing does not extend it.
    pub session_ttl_seconds: i32,
    /// The token modes `login` and `refresh` accept.
    pub modes: Vec<TokenMode>,
    /// Whether `POST /graphql` needs a project API key (`x-api-key` or `?key=`).
    pub api_keys_required: bool,
}

/// Saturates instead of wrapping: settings are validated far below `i32::MAX` anyway.
fn int(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl From<PublishedPolicy> for AuthPolicy {
    fn from(policy: PublishedPolicy) -> Self {
        AuthPolicy {
            signup_enabled: policy.signup_enabled,
            password_min_length: int(policy.password_min_length as u64),
            password_max_length: int(policy.password_max_length as u64),
            password_max_age_days: policy.password_max_age_days.map(int),
            access_token_ttl_seconds: int(policy.access_token_ttl.as_secs()),
            session_ttl_seconds: int(policy.session_ttl.as_secs()),
            modes: policy.modes.into_iter().map(Into::into).collect(),
            api_keys_required: policy.api_keys_required,
        }
    }
}
