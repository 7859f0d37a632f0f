use async_graphql::{ID, SimpleObject};

use super::{DateTime, User};
use crate::auth::secret::ExposeSecret as _;
use crate::auth::sessions::issued::SessionTokens;
use crate::auth::sessions::token_mode::TokenMode;

/// The answer to `login` and `refresh`. Which tokens appear in the body depends on the
/// token mode; the others travel in httpOnly cookies.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// The access token (a JWT); null in `SESSION` mode, where it is only in a cookie.
    pub access_token: Option<String>,
    /// The refresh token; null in `COOKIE` and `SESSION` mode, where it is only in a cookie.
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token, in milliseconds.
    pub expires: i32,
    /// When the access token expires.
    pub expires_at: DateTime,
    /// The account logged in.
    pub user: User,
    /// The same tokens in the shape older clients expect.
    pub credentials: Credentials,
    /// When the password stops being accepted; null when passwords do not age.
    pub password_expiration: Option<DateTime>,
}

/// Seed-compatible view of the tokens: send `identityId` back as a header or query
/// parameter and `token` as the bearer token.
#[derive(SimpleObject)]
pub struct Credentials {
    /// The user's id.
    pub identity_id: ID,
    /// The access token, as in `AuthPayload.accessToken`.
    pub token: Option<String>,
    /// The refresh token, as in `AuthPayload.refreshToken`.
    pub refresh_token: Option<String>,
}

/// The tokens are left out: `Debug` output lands in logs.
impl std::fmt::Debug for AuthPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthPayload")
            .field("token_type", &self.token_type)
            .field("expires", &self.expires)
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .field("credentials", &self.credentials)
            .field("password_expiration", &self.password_expiration)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("identity_id", &self.identity_id)
            .finish_non_exhaustive()
    }
}

impl AuthPayload {
    /// The body for `tokens`, with each token present only where its mode puts it in the body.
    pub fn new(tokens: &SessionTokens, access_ttl_ms: i32) -> AuthPayload {
        let access_token = (tokens.mode != TokenMode::Session)
            .then(|| tokens.access.token.expose_secret().to_owned());
        let refresh_token =
            (tokens.mode == TokenMode::Json).then(|| tokens.refresh.expose().to_owned());
        let user = User::from(tokens.account.clone());
        AuthPayload {
            credentials: Credentials {
                identity_id: user.id.clone(),
                token: access_token.clone(),
                refresh_token: refresh_token.clone(),
            },
            access_token,
            refresh_token,
            token_type: "Bearer".to_owned(),
            expires: access_ttl_ms,
            expires_at: tokens.access.expires_at.into(),
            password_expiration: user.password_expiration,
            user,
        }
    }
}
