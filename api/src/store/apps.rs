//! `apps` queries: project API keys and their allowed origins.

use chrono::{DateTime, Utc};
use latchkey_entity::app;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    Set,
};
use uuid::Uuid;

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
    pub async fn insert(&self, new: NewApp) -> Result<AppRow, StoreError> {
        let row = app::ActiveModel {
            id: Set(new.id),
            name: Set(new.name),
            key_hash: Set(new.key_hash.into()),
            key_prefix: Set(new.key_prefix),
            origins: Set(new.origins),
            require_origin: Set(new.require_origin),
            created_at: Set(new.now),
        };
        row.insert(&*self.db.writer().await)
            .await
            .map_err(|e| match StoreError::from(e) {
                // The key hash is unique too, but 256 random bits never collide: a unique
                // violation here is the name.
                StoreError::Conflict(_) => StoreError::Conflict("name"),
                other => other,
            })
    }

    /// Every app, by name.
    pub async fn all(&self) -> Result<Vec<AppRow>, StoreError> {
        Ok(app::Entity::find()
            .order_by_asc(app::Column::Name)
            .all(self.db.reader())
            .await?)
    }

    /// Deletes the app with this exact name; whether there was one.
    pub async fn delete_by_name(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = app::Entity::delete_many()
            .filter(app::Column::Name.eq(name))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(deleted.rows_affected > 0)
    }
}
