//! Checking the bearer credential of a request: a personal token (`lk_...`), else an
//! access token whose session must still be live.
//!
//! A session or personal token verified a moment ago is answered from the
//! [`CredentialCache`](super::credential_cache::CredentialCache) without a database read;
//! that module says when it forgets, so a revocation still holds for the next request.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::authenticator::Authenticator;
use super::credential_cache::CacheKey;
use super::error::AuthError;
use super::personal_tokens::ledger::PREFIX as PERSONAL_TOKEN_PREFIX;
use super::principal::{CredentialKind, Principal};
use super::secret::{ExposeSecret as _, SecretString};

impl Authenticator {
    /// The caller behind `token`. A revoked session or deleted personal token is refused
    /// on the very next request: read together with their account, one query, unless
    /// verified a moment ago and unchanged since.
    pub async fn authenticate(&self, token: &SecretString) -> Result<Principal, AuthError> {
        let token = token.expose_secret();
        let now = self.now();
        if token.starts_with(PERSONAL_TOKEN_PREFIX) {
            let key = CacheKey::personal_token(token);
            if let Some(principal) = self.credentials.get(&key, now) {
                if let CredentialKind::PersonalToken(id) = principal.credential {
                    self.personal_tokens.note_use(id, now);
                }
                return Ok(principal);
            }
            return self
                .read_and_keep(key, now, async {
                    let verified = self.personal_tokens.authenticate(token, now).await?;
                    let principal = Principal {
                        user_id: verified.owner.id,
                        credential: CredentialKind::PersonalToken(verified.id),
                        account: Arc::new(self.accounts.view(&verified.owner)),
                    };
                    Ok((principal, verified.expires_at))
                })
                .await;
        }
        let claims = self.tokens.verify(token, now).await?;
        let key = CacheKey::Session(claims.sid);
        if let Some(principal) = self.credentials.get(&key, now)
            && principal.user_id == claims.sub
        {
            return Ok(principal);
        }
        self.read_and_keep(key, now, async {
            let (session_id, session_ends, owner) = self
                .sessions
                .live_with_owner(claims.sid, claims.sub, now)
                .await?;
            let principal = Principal {
                user_id: owner.id,
                credential: CredentialKind::Session(session_id),
                account: Arc::new(self.accounts.view(&owner)),
            };
            Ok((principal, Some(session_ends)))
        })
        .await
    }

    /// Runs `read` (the database's answer for `key`, and when the credential ends) and keeps
    /// its answer, unless something was forgotten while it ran: the ticket is taken before
    /// `read` starts (a future does nothing until awaited), which is what keeps a read that
    /// raced a revocation from putting the old answer back.
    async fn read_and_keep(
        &self,
        key: CacheKey,
        now: DateTime<Utc>,
        read: impl Future<Output = Result<(Principal, Option<DateTime<Utc>>), AuthError>>,
    ) -> Result<Principal, AuthError> {
        let ticket = self.credentials.ticket(now);
        let (principal, ends) = read.await?;
        if let Some(ticket) = ticket {
            self.credentials.keep(ticket, key, &principal, ends);
        }
        Ok(principal)
    }
}
