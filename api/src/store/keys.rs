//! `signing_keys` queries. The private part is sealed on the way in and opened on the way
//! out when a sealing key is configured (`sealing`).

use chrono::{DateTime, Utc};
use latchkey_entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, Set, TransactionTrait as _,
};
use secrecy::SecretString;

use super::sealing::{Sealer, signing_key_place};
use super::{Db, StoreError};

/// A signing key as stored, its private part opened.
#[derive(Debug)]
pub struct SigningKeyRow {
    pub kid: String,
    /// PKCS#8 DER of the private key, base64.
    pub private_key: SecretString,
    /// Raw public key, base64url: the JWK `x`.
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub struct Keys {
    db: Db,
    sealer: Sealer,
}

impl Keys {
    pub(super) fn new(db: Db, sealer: Sealer) -> Keys {
        Keys { db, sealer }
    }

    /// Every key, oldest first. Fails if a private part does not open.
    pub async fn all(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(|row| {
                Ok(SigningKeyRow {
                    private_key: self
                        .sealer
                        .open(&signing_key_place(&row.kid), row.private_key.expose())?,
                    kid: row.kid,
                    public_key: row.public_key,
                    created_at: row.created_at,
                    retired_at: row.retired_at,
                })
            })
            .collect()
    }

    pub async fn insert(
        &self,
        kid: String,
        private_key: &SecretString,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let private_key = self.sealer.seal(&signing_key_place(&kid), private_key)?;
        insert(&*self.db.writer().await, kid, private_key, public_key, now).await
    }

    /// Retires every unretired key and adds this one, in one transaction, so there is
    /// always exactly one signer for instances that re-read the keys.
    pub async fn rotate(
        &self,
        kid: String,
        private_key: &SecretString,
        public_key: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let private_key = self.sealer.seal(&signing_key_place(&kid), private_key)?;
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

/// Inserts a key whose private part is already as it is to be stored (sealed or not).
async fn insert(
    db: &impl ConnectionTrait,
    kid: String,
    stored_private_key: String,
    public_key: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    signing_key::ActiveModel {
        kid: Set(kid),
        algorithm: Set("EdDSA".to_owned()),
        private_key: Set(stored_private_key.into()),
        public_key: Set(public_key),
        created_at: Set(now),
        retired_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}
