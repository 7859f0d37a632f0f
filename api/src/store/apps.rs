//! `apps` queries: project API keys and their allowed origins.

use chrono::{DateTime, Utc};
use latchkey_entity::app;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    Set, TransactionTrait as _,
};
use uuid::Uuid;

use super::auth_events::Journal;
use super::{Db, StoreError};

pub use app::Model as AppRow;

#[derive(Clone)]
pub struct Apps {
    db: Db,
}

/// Everything needed to create an app.
pub struct NewApp {
    pub id: Uuid,
    pub name: String,
    pub key_hash: String,
    pub key_prefix: String,
    /// Normalised origins, one a line.
    pub origins: String,
    pub require_origin: bool,
    pub now: DateTime<Utc>,
}

impl Apps {
    pub(super) fn new(db: Db) -> Apps {
        Apps { db }
    }

    /// Inserts an app; a taken name is `Conflict("name")`.
    /// Inserts an app and writes `journal`, in one transaction.
    pub async fn insert(&self, new: NewApp, journal: &mut Journal) -> Result<AppRow, StoreError> {
        let row = app::ActiveModel {
            id: Set(new.id),
            name: Set(new.name),
            key_hash: Set(new.key_hash.into()),
            key_prefix: Set(new.key_prefix),
            origins: Set(new.origins),
            require_origin: Set(new.require_origin),
            created_at: Set(new.now),
        };
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let row = row
            .insert(&txn)
            .await
            .map_err(|e| match StoreError::from(e) {
                // The key hash is unique too, but 256 random bits never collide: a unique
                // violation here is the name.
                StoreError::Conflict(_) => StoreError::Conflict("name"),
                other => other,
            })?;
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Every app, by name.
    pub async fn all(&self) -> Result<Vec<AppRow>, StoreError> {
        Ok(app::Entity::find()
            .order_by_asc(app::Column::Name)
            .all(self.db.reader())
            .await?)
    }

    /// Deletes the app with this exact name, writing `journal` with it; whether there
    /// was one (nothing is written if not).
    pub async fn delete_by_name(
        &self,
        name: &str,
        journal: &mut Journal,
    ) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let deleted = app::Entity::delete_many()
            .filter(app::Column::Name.eq(name))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(true)
    }
}
