//! `signing_keys` queries.

use chrono::{DateTime, Utc};
use latchkey_entity::signing_key;
use sea_orm::{ActiveModelTrait as _, DatabaseConnection, EntityTrait as _, QueryOrder as _, Set};

use super::StoreError;

pub use signing_key::Model as SigningKeyRow;

#[derive(Clone)]
pub struct Keys {
    db: DatabaseConnection,
}

impl Keys {
    pub(super) fn new(db: DatabaseConnection) -> Keys {
        Keys { db }
    }

    /// Every key, oldest first.
    pub async fn all(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        Ok(signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    pub async fn insert(
        &self,
        kid: String,
        private_key: String,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        signing_key::ActiveModel {
            kid: Set(kid),
            algorithm: Set("EdDSA".to_owned()),
            private_key: Set(private_key),
            public_key: Set(public_key),
            created_at: Set(now),
            retired_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }
}
