//! Personal tokens (the contract's "auth headers"): long-lived `lk_` bearer tokens a user
//! makes for scripts and servers.
//!
//! A token is shown once, at creation; only its SHA-256 is stored, found by a unique index
//! and compared in constant time. It acts as its owner wherever an access token works in
//! the `Authorization` header or the `access_token` query parameter (never from a cookie:
//! the HTTP layer refuses that), and stops working at once when deleted, when it expires,
//! or when its owner is deleted (the rows cascade).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AuthError;
use super::principal::{CredentialKind, Principal};
use super::secret::{OpaqueSecret, TokenHash};
use super::service::Authenticator;
use crate::store::auth_headers::{AddRefused, AuthHeaderRow, NewAuthHeader};

/// Every personal token starts with this.
pub const PREFIX: &str = "lk_";
/// Live (unexpired) tokens one user may hold.
pub const LIVE_LIMIT: u64 = 50;
/// Longest name, in characters.
const NAME_MAX_CHARS: usize = 100;
/// `lastUsedAt` is written at most this often per token, not on every request.
const RECORD_USE_EVERY: Duration = Duration::from_secs(60);

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
    Token(String),
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
    /// token cannot mint another, so a leaked one cannot outlive its own deletion.
    pub async fn add_personal_token(
        &self,
        who: &Principal,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewPersonalToken, AuthError> {
        if who.session_id().is_none() {
            return Err(AuthError::Forbidden(
                "a personal token cannot create personal tokens: log in to create one",
            ));
        }
        let name = parse_name(name)?;
        let now = self.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::bad_input("expiresAt", "must be in the future"));
        }
        let token = OpaqueSecret::generate(PREFIX);
        let new = NewAuthHeader {
            id: Uuid::now_v7(),
            user_id: who.user_id,
            name,
            token_hash: token.hash().as_str().to_owned(),
            prefix: token.shown_prefix(PREFIX),
            expires_at,
        };
        match self.store.auth_headers.add(new, LIVE_LIMIT, now).await? {
            Ok(row) => {
                tracing::info!(user_id = %who.user_id, auth_header_id = %row.id, "personal token created");
                Ok(NewPersonalToken {
                    token,
                    listed: row.into(),
                })
            }
            Err(AddRefused::AtLimit(_)) => Err(AuthError::bad_input(
                "name",
                format!(
                    "you already hold {LIVE_LIMIT} live auth headers, the most allowed: delete one first"
                ),
            )),
            Err(AddRefused::NoOwner) => Err(AuthError::Unauthenticated("account no longer exists")),
        }
    }

    /// The caller's personal tokens, newest first, expired ones included.
    pub async fn personal_tokens(&self, who: &Principal) -> Result<Vec<PersonalToken>, AuthError> {
        let rows = self.store.auth_headers.of_user(who.user_id).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Deletes one of the caller's tokens. `false` alike for an unknown token and for
    /// someone else's, so the answer reveals nothing about other users.
    pub async fn delete_personal_token(
        &self,
        who: &Principal,
        target: PersonalTokenRef,
    ) -> Result<bool, AuthError> {
        let deleted = match target {
            PersonalTokenRef::Id(id) => {
                let id = Uuid::parse_str(id.trim())
                    .map_err(|_| AuthError::bad_input("id", "is not an auth header id"))?;
                self.store
                    .auth_headers
                    .delete_by_id(who.user_id, id)
                    .await?
            }
            PersonalTokenRef::Token(raw) => match OpaqueSecret::parse(PREFIX, raw.trim()) {
                Some(token) => {
                    let hash = token.hash();
                    self.store
                        .auth_headers
                        .delete_by_hash(who.user_id, hash.as_str())
                        .await?
                }
                None => false,
            },
        };
        if deleted {
            tracing::info!(user_id = %who.user_id, "personal token deleted");
        }
        Ok(deleted)
    }

    /// Checks a presented `lk_` token.
    pub(super) async fn authenticate_personal_token(
        &self,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthError> {
        const INVALID: AuthError = AuthError::Unauthenticated("invalid personal token");
        let token = OpaqueSecret::parse(PREFIX, raw).ok_or(INVALID)?;
        let hash = token.hash();
        let (row, owner) = self
            .store
            .auth_headers
            .find_by_hash_with_user(hash.as_str())
            .await?
            .ok_or(INVALID)?;
        if !hash.matches(&TokenHash::from_stored(row.token_hash.clone())) {
            return Err(INVALID);
        }
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::Unauthenticated("personal token expired"));
        }
        if self.personal_token_uses.is_due(row.id) {
            let store = self.store.auth_headers.clone();
            let every =
                chrono::Duration::from_std(RECORD_USE_EVERY).unwrap_or(chrono::Duration::MAX);
            let id = row.id;
            tokio::spawn(async move {
                if let Err(e) = store.touch(id, now, every).await {
                    tracing::warn!(auth_header_id = %id, error = %e, "could not record a personal token's use");
                }
            });
        }
        Ok(Principal {
            user_id: row.user_id,
            credential: CredentialKind::PersonalToken(row.id),
            account: Arc::new(self.account_of(&owner)),
        })
    }
}

fn parse_name(raw: &str) -> Result<String, AuthError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(AuthError::bad_input("name", "must not be empty"));
    }
    if chars > NAME_MAX_CHARS {
        return Err(AuthError::bad_input(
            "name",
            format!("must be at most {NAME_MAX_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::bad_input(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Remembers, per token, when this instance last recorded a use, so `lastUsedAt` costs a
/// write at most once a minute per token rather than one per request. (The write itself is
/// conditional too, so several instances do not multiply it.)
#[derive(Debug, Default)]
pub struct UseRecorder {
    last: Mutex<HashMap<Uuid, Instant>>,
}

/// Entries kept before old ones are swept out.
const RECORDER_SWEEP_AT: usize = 10_000;

impl UseRecorder {
    /// Whether a use of `id` should be written now; if so, counts it as written.
    pub fn is_due(&self, id: Uuid) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last
            .get(&id)
            .is_some_and(|at| now.duration_since(*at) < RECORD_USE_EVERY)
        {
            return false;
        }
        if last.len() >= RECORDER_SWEEP_AT {
            last.retain(|_, at| now.duration_since(*at) < RECORD_USE_EVERY);
        }
        last.insert(id, now);
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(parse_name("  CI deploy ").unwrap(), "CI deploy");
        assert_eq!(parse_name(&"é".repeat(100)).unwrap().chars().count(), 100);
        for bad in ["", "   ", &"é".repeat(101), "tab\there", "nul\0"] {
            assert!(
                matches!(
                    parse_name(bad),
                    Err(AuthError::BadInput { field: "name", .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_use_is_recorded_once_per_interval_per_token() {
        let recorder = UseRecorder::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(recorder.is_due(a));
        assert!(!recorder.is_due(a));
        assert!(recorder.is_due(b));
    }
}
