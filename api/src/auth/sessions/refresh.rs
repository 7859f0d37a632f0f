//! Refreshing: rotating a refresh token and minting a new access token for its session.

use super::issued::SessionTokens;
use super::ledger::Rotation;
use super::token_mode::TokenMode;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::throttle::address_budget::ThrottledAction;

/// Where the presented refresh token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshSource {
    /// The `refreshToken` argument: the client holds the token itself.
    Argument,
    /// The HttpOnly refresh cookie: script was never to see it, so its successor is never
    /// put in the body either.
    Cookie,
}

impl Authenticator {
    /// Rotates a refresh token. `mode: None` answers in the session's own mode.
    ///
    /// A token read from the cookie never comes back in the body: asking for `JSON` with
    /// one is `BAD_USER_INPUT` (before anything rotates), and a session whose own mode is
    /// `JSON` answers such a refresh in `COOKIE` mode, so the successor stays in its cookie.
    ///
    /// Throttled per client address on failures only (unknown, revoked, reused tokens):
    /// every refresh takes a unit of the address budget and a success gives it back, so
    /// the refreshes of many users behind one NAT never use it up.
    pub async fn refresh(
        &self,
        presented: &SecretString,
        source: RefreshSource,
        mode: Option<TokenMode>,
        client: &ClientMeta,
    ) -> Result<SessionTokens, AuthError> {
        let ip = client.ip.as_deref();
        if source == RefreshSource::Cookie && mode == Some(TokenMode::Json) {
            return Err(AuthError::bad_input(
                "mode",
                "a refresh token read from the cookie is never put in the body: ask for COOKIE or \
                 SESSION, or leave mode out",
            ));
        }
        self.throttle
            .charge(ThrottledAction::Refresh, ip, self.now())?;
        let outcome = self
            .rotate(presented.expose_secret(), source, mode, client)
            .await;
        if !matches!(
            outcome,
            Err(AuthError::Unauthenticated(_) | AuthError::RefreshTokenReused)
        ) {
            self.throttle
                .refund(ThrottledAction::Refresh, ip, self.now());
        }
        outcome
    }

    async fn rotate(
        &self,
        presented: &str,
        source: RefreshSource,
        mode: Option<TokenMode>,
        client: &ClientMeta,
    ) -> Result<SessionTokens, AuthError> {
        let now = self.now();
        let rotated = match self.sessions.rotate(presented, client, now).await? {
            Rotation::Rotated(rotated) => rotated,
            Rotation::Reused(journal) => {
                self.publish(journal);
                return Err(AuthError::RefreshTokenReused);
            }
        };
        let session = rotated.session;
        let row = self
            .accounts
            .find(session.user_id)
            .await?
            .ok_or(AuthError::Unauthenticated("invalid refresh token"))?;
        let access = self.tokens.mint(row.id, session.id, now)?;
        Ok(SessionTokens {
            device: None,
            account: self.accounts.view(&row),
            access,
            refresh: rotated.successor,
            session_id: session.id,
            mode: match mode.unwrap_or_else(|| TokenMode::from_stored(&session.mode)) {
                TokenMode::Json if source == RefreshSource::Cookie => TokenMode::Cookie,
                mode => mode,
            },
            session_expires_at: session.expires_at,
        })
    }
}
