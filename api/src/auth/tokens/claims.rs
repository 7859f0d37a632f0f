//! The claims of an access token (RFC 9068 profile), and why a presented one is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::error::AuthError;

/// Clock skew tolerated on `exp`.
pub const LEEWAY_SECS: i64 = 5;
/// The JOSE `typ` of an access token (RFC 9068 section 2.1).
pub const TOKEN_TYPE: &str = "at+jwt";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The login session the token belongs to; revoking it kills the token.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Malformed, forged, or not ours: never more specific than this to the client.
    Invalid,
    /// Signed by us and otherwise valid, but past `exp` (and the leeway).
    Expired,
    /// Well-formed, but its `kid` is not in our key ring: the keys may have been rotated
    /// by another process since we loaded them. Reported to the client as `Invalid`.
    UnknownKey,
}

impl From<TokenRejection> for AuthError {
    fn from(rejection: TokenRejection) -> Self {
        match rejection {
            TokenRejection::Expired => AuthError::TokenExpired,
            TokenRejection::Invalid | TokenRejection::UnknownKey => {
                AuthError::Unauthenticated("invalid access token")
            }
        }
    }
}

/// The claims, if they have not expired at `now` (with the leeway).
pub fn unexpired(
    claims: AccessTokenClaims,
    now: DateTime<Utc>,
) -> Result<AccessTokenClaims, TokenRejection> {
    if now.timestamp() > claims.exp.saturating_add(LEEWAY_SECS) {
        return Err(TokenRejection::Expired);
    }
    Ok(claims)
}
