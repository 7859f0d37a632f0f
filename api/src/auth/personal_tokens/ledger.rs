//! Personal tokens in the database: making one, listing, deleting, and checking a
//! presented one.
//!
//! A token is shown once, at creation; only its SHA-256 is stored, found by a unique index
//! and compared in constant time. It stops working at once when deleted, when it expires,
//! or when its owner is deleted (the rows cascade).

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::use_recorder::{RECORD_USE_EVERY, UseRecorder};
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::secret::{OpaqueSecret, TokenHash};
use crate::store::auth_events::Journal;
use crate::store::auth_headers::{AddRefused, AuthHeaderRow, AuthHeaders, NewAuthHeader};
use crate::store::users::UserRow;

/// Every personal token starts with this.
pub const PREFIX: &str = "lk_";
/// Live (unexpired) tokens one user may hold.
pub const LIVE_LIMIT: u64 = 50;

pub struct PersonalTokenLedger {
    auth_headers: AuthHeaders,
    uses: UseRecorder,
    /// The longest a token may live: a leaked one must stop working some day.
    max_ttl: Duration,
}

/// Why a token could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddRefusal {
    /// The owner already holds [`LIVE_LIMIT`] live tokens.
    AtLimit,
    /// The owner was deleted meanwhile.
    NoOwner,
}

impl PersonalTokenLedger {
    pub fn new(auth_headers: AuthHeaders, max_ttl: Duration) -> PersonalTokenLedger {
        PersonalTokenLedger {
            auth_headers,
            uses: UseRecorder::default(),
            max_ttl,
        }
    }

    /// The expiry a new token gets: the one asked for, unless it is later than the longest
    /// lifetime allowed from `now` (or absent), which it then is.
    pub fn clamp_expiry(
        &self,
        requested: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let latest = chrono::Duration::from_std(self.max_ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl));
        match (requested, latest) {
            (Some(at), Some(latest)) => Some(at.min(latest)),
            (None, latest) => latest,
            (Some(at), None) => Some(at),
        }
    }

    /// Makes a token for `owner`, unless they hold [`LIVE_LIMIT`] live ones already
    /// (counted and inserted atomically).
    pub async fn add(
        &self,
        owner: Uuid,
        name: String,
        expires_at: Option<DateTime<Utc>>,
        created: NewAuthEvent,
        now: DateTime<Utc>,
    ) -> Result<Result<(OpaqueSecret, AuthHeaderRow, Journal), AddRefusal>, AuthError> {
        let token = OpaqueSecret::generate(PREFIX);
        let id = Uuid::now_v7();
        let mut journal = Journal::of(
            created
                .detail("tokenId", id.to_string())
                .detail("name", name.clone()),
        );
        let new = NewAuthHeader {
            id,
            user_id: owner,
            name,
            token_hash: token.hash().as_str().to_owned(),
            prefix: token.shown_prefix(PREFIX),
            expires_at,
        };
        Ok(
            match self
                .auth_headers
                .add(new, LIVE_LIMIT, &mut journal, now)
                .await?
            {
                Ok(row) => Ok((token, row, journal)),
                Err(AddRefused::AtLimit(_)) => Err(AddRefusal::AtLimit),
                Err(AddRefused::NoOwner) => Err(AddRefusal::NoOwner),
            },
        )
    }

    /// `owner`'s tokens, newest first, expired ones included.
    pub async fn of(&self, owner: Uuid) -> Result<Vec<AuthHeaderRow>, AuthError> {
        Ok(self.auth_headers.of_user(owner).await?)
    }

    /// Deletes `owner`'s token `id`, writing `journal` with it.
    pub async fn delete_by_id(
        &self,
        owner: Uuid,
        id: Uuid,
        journal: &mut Journal,
    ) -> Result<bool, AuthError> {
        Ok(self.auth_headers.delete_by_id(owner, id, journal).await?)
    }

    /// Deletes every token of `owner`, writing `journal` with them; how many there were.
    pub async fn delete_all_of(
        &self,
        owner: Uuid,
        journal: &mut Journal,
    ) -> Result<u64, AuthError> {
        Ok(self.auth_headers.delete_all_of(owner, journal).await?)
    }

    /// Deletes `owner`'s token whose text is `raw`, writing `journal` with it; `false` for
    /// anything else.
    pub async fn delete_by_token(
        &self,
        owner: Uuid,
        raw: &str,
        journal: &mut Journal,
    ) -> Result<bool, AuthError> {
        let Some(token) = OpaqueSecret::parse(PREFIX, raw) else {
            return Ok(false);
        };
        Ok(self
            .auth_headers
            .delete_by_hash(owner, token.hash().as_str(), journal)
            .await?)
    }

    /// The token's id, expiry and owner, if `raw` is a live token. Records the use (see
    /// [`PersonalTokenLedger::note_use`]).
    pub async fn authenticate(
        &self,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedToken, AuthError> {
        const INVALID: AuthError = AuthError::Unauthenticated("invalid personal token");
        let token = OpaqueSecret::parse(PREFIX, raw).ok_or(INVALID)?;
        let hash = token.hash();
        let (row, owner) = self
            .auth_headers
            .find_by_hash_with_user(hash.as_str())
            .await?
            .ok_or(INVALID)?;
        if !hash.matches(&TokenHash::from_stored(row.token_hash.expose().to_owned())) {
            return Err(INVALID);
        }
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::Unauthenticated("personal token expired"));
        }
        self.note_use(row.id, now);
        Ok(VerifiedToken {
            id: row.id,
            expires_at: row.expires_at,
            owner,
        })
    }

    /// Records a use of token `id` (its `lastUsedAt`), at most once a minute per token, in
    /// the background: also for uses answered from memory.
    pub fn note_use(&self, id: Uuid, now: DateTime<Utc>) {
        if !self.uses.is_due(id) {
            return;
        }
        let table = self.auth_headers.clone();
        let every = chrono::Duration::from_std(RECORD_USE_EVERY).unwrap_or(chrono::Duration::MAX);
        tokio::spawn(async move {
            if let Err(e) = table.touch(id, now, every).await {
                tracing::warn!(auth_header_id = %id, error = %e, "could not record a personal token's use");
            }
        });
    }
}

/// A presented personal token that is live.
pub struct VerifiedToken {
    pub id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub owner: UserRow,
}

/// The `PERSONAL_TOKEN_DELETED` event of each token a change deletes (its id is added per
/// token): why, and from where the change came.
pub fn token_deleted(
    owner: Uuid,
    reason: &'static str,
    client: &ClientMeta,
    now: DateTime<Utc>,
) -> NewAuthEvent {
    NewAuthEvent::new(AuthEventKind::PersonalTokenDeleted, now)
        .user(owner)
        .client(client)
        .detail("reason", reason)
}
