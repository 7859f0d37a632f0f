//! `addAuthHeader`, `authHeaders`, `deleteAuthHeader`: a user's own personal tokens.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ledger::{AddRefusal, LIVE_LIMIT, token_deleted};
use super::token_name::parse_token_name;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::email::kind::MailKind;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::principal::Principal;
use crate::auth::secret::{ExposeSecret as _, OpaqueSecret, SecretString};
use crate::auth::sessions::step_up::StepUp;
use crate::store::auth_events::Journal;
use crate::store::auth_headers::AuthHeaderRow;

/// A personal token as its owner sees it in a listing: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalToken {
    pub id: Uuid,
    pub name: String,
    /// `lk_` and the first characters of the token.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token just made: the only time the secret is available.
#[derive(Debug)]
pub struct NewPersonalToken {
    pub token: OpaqueSecret,
    pub listed: PersonalToken,
}

/// Which token `delete_personal_token` should delete.
#[derive(Debug)]
pub enum PersonalTokenRef {
    Id(String),
    Token(SecretString),
}

impl From<AuthHeaderRow> for PersonalToken {
    fn from(row: AuthHeaderRow) -> Self {
        PersonalToken {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
        }
    }
}

impl Authenticator {
    /// Makes a personal token for the caller. Only a logged-in session may: a personal
    /// token cannot mint another, so a leaked one cannot outlive its own deletion. And
    /// only with a recent authentication (step-up): a stolen access token cannot turn
    /// itself into a credential that outlives it.
    pub async fn add_personal_token(
        &self,
        who: &Principal,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
        step_up: StepUp,
        client: &ClientMeta,
    ) -> Result<NewPersonalToken, AuthError> {
        if who.session_id().is_none() {
            return Err(AuthError::Forbidden(
                "a personal token cannot create personal tokens: log in to create one",
            ));
        }
        let name = parse_token_name(name)?;
        let now = self.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::bad_input("expiresAt", "must be in the future"));
        }
        let expires_at = self.personal_tokens.clamp_expiry(expires_at, now);
        // Asked once the input is known to be good, so a client prompts for the password
        // only for a request that can succeed.
        self.require_recent_authentication(who, step_up).await?;
        let created = NewAuthEvent::new(AuthEventKind::PersonalTokenCreated, now)
            .user(who.user_id)
            .session(who.session_id())
            .client(client)
            .detail_opt("expiresAt", expires_at.map(|at| at.to_rfc3339()));
        match self
            .personal_tokens
            .add(who.user_id, name, expires_at, created, now)
            .await?
        {
            Ok((token, row, journal)) => {
                self.publish(journal);
                tracing::info!(user_id = %who.user_id, auth_header_id = %row.id, "personal token created");
                self.send_notice(who.user_id, MailKind::PersonalTokenCreated)
                    .await;
                Ok(NewPersonalToken {
                    token,
                    listed: row.into(),
                })
            }
            Err(AddRefusal::AtLimit) => Err(AuthError::bad_input(
                "name",
                format!(
                    "you already hold {LIVE_LIMIT} live auth headers, the most allowed: delete one first"
                ),
            )),
            Err(AddRefusal::NoOwner) => Err(AuthError::Unauthenticated("account no longer exists")),
        }
    }

    /// The caller's personal tokens, newest first, expired ones included.
    pub async fn personal_tokens(&self, who: &Principal) -> Result<Vec<PersonalToken>, AuthError> {
        let rows = self.personal_tokens.of(who.user_id).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Deletes one of the caller's tokens. `false` alike for an unknown token and for
    /// someone else's, so the answer reveals nothing about other users.
    pub async fn delete_personal_token(
        &self,
        who: &Principal,
        target: PersonalTokenRef,
        client: &ClientMeta,
    ) -> Result<bool, AuthError> {
        let mut journal = Journal::new().per_deleted_token(
            token_deleted(who.user_id, "deleted", client, self.now()).session(who.session_id()),
        );
        let deleted = match target {
            PersonalTokenRef::Id(id) => {
                let id = Uuid::parse_str(id.trim())
                    .map_err(|_| AuthError::bad_input("id", "is not an auth header id"))?;
                self.personal_tokens
                    .delete_by_id(who.user_id, id, &mut journal)
                    .await?
            }
            PersonalTokenRef::Token(raw) => {
                self.personal_tokens
                    .delete_by_token(who.user_id, raw.expose_secret().trim(), &mut journal)
                    .await?
            }
        };
        self.publish(journal);
        if deleted {
            tracing::info!(user_id = %who.user_id, "personal token deleted");
        }
        Ok(deleted)
    }
}
