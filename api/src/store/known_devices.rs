//! `known_devices` queries: the browsers an account has logged in from, found by the hash
//! of their device cookie and always scoped to their account.

use chrono::{DateTime, Utc};
use latchkey_entity::known_device::{self, Column};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set,
};
use uuid::Uuid;

use super::unique::UniqueRow as _;
use super::{Db, StoreError};

#[derive(Clone)]
pub struct KnownDevices {
    db: Db,
}

impl KnownDevices {
    pub(super) fn new(db: Db) -> KnownDevices {
        KnownDevices { db }
    }

    /// The id of `account`'s unexpired device whose cookie hashes to `token_hash`. A cookie
    /// of another account's device is not found.
    pub async fn find(
        &self,
        account_id: Uuid,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        let row = known_device::Entity::find()
            .filter(Column::TokenHash.eq(token_hash))
            .filter(Column::AccountId.eq(account_id))
            .filter(Column::ExpiresAt.gt(now))
            .unique(self.db.reader())
            .await?;
        Ok(row.map(|row| row.id))
    }

    /// A successful login from the device: it is kept until `expires_at`.
    pub async fn touch(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        known_device::Entity::update_many()
            .col_expr(Column::LastUsedAt, now.into())
            .col_expr(Column::ExpiresAt, expires_at.into())
            .filter(Column::Id.eq(id))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Remembers a new device of `account_id`, then forgets the account's expired devices
    /// and all but its `keep` most recently used. Two adds racing may leave one too many
    /// for a moment; the next add trims it.
    pub async fn add(
        &self,
        account_id: Uuid,
        token_hash: String,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        keep: u64,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        let writer = self.db.writer().await;
        known_device::Entity::insert(known_device::ActiveModel {
            id: Set(id),
            account_id: Set(account_id),
            token_hash: Set(token_hash.into()),
            created_at: Set(now),
            last_used_at: Set(now),
            expires_at: Set(expires_at),
        })
        .exec_without_returning(&*writer)
        .await?;
        // At most `keep` + a few rows (each add trims), so they are read whole and the
        // oldest picked here (SQLite takes no OFFSET without a LIMIT).
        let newest_first: Vec<Uuid> = known_device::Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::AccountId.eq(account_id))
            .order_by_desc(Column::LastUsedAt)
            .order_by_desc(Column::Id)
            .into_tuple()
            .all(&*writer)
            .await?;
        let beyond: Vec<Uuid> = newest_first
            .into_iter()
            .skip(usize::try_from(keep).unwrap_or(usize::MAX))
            .collect();
        known_device::Entity::delete_many()
            .filter(Column::AccountId.eq(account_id))
            .filter(
                sea_orm::Condition::any()
                    .add(Column::ExpiresAt.lte(now))
                    .add(Column::Id.is_in(beyond)),
            )
            .exec(&*writer)
            .await?;
        Ok(id)
    }

    /// Deletes every expired device; how many.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = known_device::Entity::delete_many()
            .filter(Column::ExpiresAt.lte(now))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(deleted.rows_affected)
    }
}
