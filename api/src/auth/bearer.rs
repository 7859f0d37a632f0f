//! Checking the bearer credential of a request: a personal token (`lk_...`), else an
//! access token whose session must still be live.

use std::sync::Arc;

use super::authenticator::Authenticator;
use super::error::AuthError;
use super::personal_tokens::ledger::PREFIX as PERSONAL_TOKEN_PREFIX;
use super::principal::{CredentialKind, Principal};
use super::secret::{ExposeSecret as _, SecretString};

impl Authenticator {
    /// The caller behind `token`. A revoked session or deleted personal token is refused
    /// on the very next request: both are read together with their account, one query.
    pub async fn authenticate(&self, token: &SecretString) -> Result<Principal, AuthError> {
        let token = token.expose_secret();
        let now = self.now();
        if token.starts_with(PERSONAL_TOKEN_PREFIX) {
            let (token_id, owner) = self.personal_tokens.authenticate(token, now).await?;
            return Ok(Principal {
                user_id: owner.id,
                credential: CredentialKind::PersonalToken(token_id),
                account: Arc::new(self.accounts.view(&owner)),
            });
        }
        let claims = self.tokens.verify(token, now).await?;
        let (session_id, owner) = self
            .sessions
            .live_with_owner(claims.sid, claims.sub, now)
            .await?;
        Ok(Principal {
            user_id: owner.id,
            credential: CredentialKind::Session(session_id),
            account: Arc::new(self.accounts.view(&owner)),
        })
    }
}
