//! `webauthn_challenges` queries: a ceremony's state, written at its start and consumed
//! once at its finish.

use chrono::{DateTime, Utc};
use latchkey_entity::webauthn_challenge::{self, Column};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, Set};
use uuid::Uuid;

use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub use webauthn_challenge::Model as ChallengeRow;

#[derive(Clone)]
pub struct WebauthnChallenges {
    db: Db,
}

/// A ceremony just started.
pub struct NewChallenge {
    pub challenge_hash: String,
    pub ceremony: &'static str,
    pub account_id: Option<Uuid>,
    pub state: String,
    pub payload: Option<String>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl WebauthnChallenges {
    pub(super) fn new(db: Db) -> WebauthnChallenges {
        WebauthnChallenges { db }
    }

    /// Stores a ceremony's state, and deletes the expired ones, so the table holds only
    /// ceremonies under way.
    pub async fn insert(&self, new: NewChallenge) -> Result<(), StoreError> {
        let writer = self.db.writer().await;
        webauthn_challenge::Entity::delete_many()
            .filter(Column::ExpiresAt.lte(new.now))
            .exec(&*writer)
            .await?;
        webauthn_challenge::Entity::insert(webauthn_challenge::ActiveModel {
            challenge_hash: Set(new.challenge_hash),
            ceremony: Set(new.ceremony.to_owned()),
            account_id: Set(new.account_id),
            state: Set(new.state.into()),
            payload: Set(new.payload),
            created_at: Set(new.now),
            expires_at: Set(new.expires_at),
        })
        .exec_without_returning(&*writer)
        .await?;
        Ok(())
    }

    /// Takes the unexpired challenge of this ceremony: reads it, then deletes it with one
    /// conditional DELETE, and hands it back only if that DELETE removed it. Of any number
    /// of finishes racing (on any number of instances), exactly one gets the row.
    pub async fn consume(
        &self,
        challenge_hash: &str,
        ceremony: &'static str,
        now: DateTime<Utc>,
    ) -> Result<Option<ChallengeRow>, StoreError> {
        let Some(row) = webauthn_challenge::Entity::find()
            .filter(Column::ChallengeHash.eq(challenge_hash))
            .filter(Column::Ceremony.eq(ceremony))
            .filter(Column::ExpiresAt.gt(now))
            .unique(self.db.reader())
            .await?
        else {
            return Ok(None);
        };
        let deleted = webauthn_challenge::Entity::delete_many()
            .filter(Column::ChallengeHash.eq(challenge_hash))
            .filter(Column::Ceremony.eq(ceremony))
            .filter(Column::ExpiresAt.gt(now))
            .exec(&*self.db.writer().await)
            .await?;
        Ok((deleted.rows_affected == 1).then_some(row))
    }
}
