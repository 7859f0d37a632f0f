//! `signing_keys` queries.

use chrono::{DateTime, Utc};
use latchkey_entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, Set, TransactionTrait as _,
};

use super::{Db, StoreError};

pub use signing_key::Model as SigningKeyRow;

#[derive(Clone)]
pub struct Keys {
    db: Db,
}

impl Keys {
    pub(super) fn new(db: Db) -> Keys {
        Keys { db }
    }

    /// Every key, oldest first.
    pub async fn all(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        Ok(signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .all(self.db.reader())
            .await?)
    }

    pub async fn insert(
        &self,
        kid: String,
        private_key: String,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        insert(&*self.db.writer().await, kid, private_key, public_key, now).await
    }

    /// Retires every unretired key and adds this one, in one transaction, so there is
    /// always exactly one signer for instances that re-read the keys.
    pub async fn rotate(
        &self,
        kid: String,
        private_key: String,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
            .filter(signing_key::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
        insert(&txn, kid, private_key, public_key, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes these keys; how many there were.
    pub async fn delete(&self, kids: &[String]) -> Result<u64, StoreError> {
        if kids.is_empty() {
            return Ok(0);
        }
        Ok(signing_key::Entity::delete_many()
            .filter(signing_key::Column::Kid.is_in(kids.iter().cloned()))
            .exec(&*self.db.writer().await)
            .await?
            .rows_affected)
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    kid: String,
    private_key: String,
    public_key: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    signing_key::ActiveModel {
        kid: Set(kid),
        algorithm: Set("EdDSA".to_owned()),
        private_key: Set(private_key.into()),
        public_key: Set(public_key),
        created_at: Set(now),
        retired_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}
