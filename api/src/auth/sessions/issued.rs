//! What `login` and `refresh` hand back: a session's tokens and how to deliver them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::refresh_token::RefreshToken;
use super::token_mode::TokenMode;
use crate::auth::accounts::account::Account;
use crate::auth::known_devices::registry::DeviceCookie;
use crate::auth::tokens::access_tokens::MintedAccessToken;

/// Tokens for a session: the result of `login` and `refresh`.
pub struct SessionTokens {
    pub account: Account,
    pub access: MintedAccessToken,
    pub refresh: RefreshToken,
    pub session_id: Uuid,
    pub mode: TokenMode,
    pub session_expires_at: DateTime<Utc>,
    /// The device cookie to set: after a successful `login` (`None` for `refresh`, or
    /// when the device could not be stored).
    pub device: Option<DeviceCookie>,
}
