//! `passkeys` queries, each scoped to its account except the lookup by credential id
//! (a login that names no account finds the credential first, then its account).

use chrono::{DateTime, Utc};
use latchkey_entity::passkey::{self, Column};
use latchkey_entity::user;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set, TransactionTrait as _,
};
use uuid::Uuid;

use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub use passkey::Model as PasskeyRow;

#[derive(Clone)]
pub struct Passkeys {
    db: Db,
}

/// A credential just registered.
pub struct NewPasskey {
    pub account_id: Uuid,
    pub name: String,
    pub credential_id: String,
    pub credential: String,
    pub aaguid: Option<String>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub user_verified: bool,
    pub now: DateTime<Utc>,
}

/// What an assertion changed in a stored credential.
pub struct PasskeyUse<'a> {
    pub id: Uuid,
    /// The serialised credential as it was read before the assertion was checked.
    pub before: &'a str,
    pub after: String,
    pub backup_state: bool,
    pub now: DateTime<Utc>,
}

/// The row a new passkey becomes, and the model that inserts it.
pub(super) fn passkey_model(new: NewPasskey) -> (PasskeyRow, passkey::ActiveModel) {
    let row = PasskeyRow {
        id: Uuid::now_v7(),
        account_id: new.account_id,
        name: new.name,
        credential_id: new.credential_id,
        credential: new.credential,
        aaguid: new.aaguid,
        backup_eligible: new.backup_eligible,
        backup_state: new.backup_state,
        user_verified: new.user_verified,
        created_at: new.now,
        last_used_at: None,
    };
    let model = passkey::ActiveModel {
        id: Set(row.id),
        account_id: Set(row.account_id),
        name: Set(row.name.clone()),
        credential_id: Set(row.credential_id.clone()),
        credential: Set(row.credential.clone()),
        aaguid: Set(row.aaguid.clone()),
        backup_eligible: Set(row.backup_eligible),
        backup_state: Set(row.backup_state),
        user_verified: Set(row.user_verified),
        created_at: Set(row.created_at),
        last_used_at: Set(None),
    };
    (row, model)
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    /// No passkey of the account has this id.
    NotFound,
    /// It is the account's last passkey and the account has no password.
    LastWayIn,
}

impl Passkeys {
    pub(super) fn new(db: Db) -> Passkeys {
        Passkeys { db }
    }

    /// Stores a new passkey; a credential id already registered (to anyone) is `Conflict`.
    pub async fn insert(&self, new: NewPasskey) -> Result<PasskeyRow, StoreError> {
        let (row, model) = passkey_model(new);
        passkey::Entity::insert(model)
            .exec_without_returning(&*self.db.writer().await)
            .await?;
        Ok(row)
    }

    /// The account's passkeys, oldest first.
    pub async fn list_for(&self, account_id: Uuid) -> Result<Vec<PasskeyRow>, StoreError> {
        Ok(passkey::Entity::find()
            .filter(Column::AccountId.eq(account_id))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .all(self.db.reader())
            .await?)
    }

    pub async fn count_for(&self, account_id: Uuid) -> Result<u64, StoreError> {
        Ok(passkey::Entity::find()
            .filter(Column::AccountId.eq(account_id))
            .count(self.db.reader())
            .await?)
    }

    /// The passkey with this credential id, whoever owns it.
    pub async fn find_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, StoreError> {
        Ok(passkey::Entity::find()
            .filter(Column::CredentialId.eq(credential_id))
            .unique(self.db.reader())
            .await?)
    }

    /// Records a verified assertion: the new counter and flags, and when. Only if the
    /// stored credential is still the one the assertion was checked against: of two
    /// assertions racing, the later write does not put an older counter back. `false`
    /// when another one got there first.
    pub async fn record_use(&self, used: PasskeyUse<'_>) -> Result<bool, StoreError> {
        let result = passkey::Entity::update_many()
            .col_expr(Column::Credential, used.after.into())
            .col_expr(Column::BackupState, used.backup_state.into())
            .col_expr(Column::LastUsedAt, Some(used.now).into())
            .filter(Column::Id.eq(used.id))
            .filter(Column::Credential.eq(used.before))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Renames the account's passkey; `false` when it has none with this id.
    pub async fn rename(&self, account_id: Uuid, id: Uuid, name: &str) -> Result<bool, StoreError> {
        let result = passkey::Entity::update_many()
            .col_expr(Column::Name, name.into())
            .filter(Column::Id.eq(id))
            .filter(Column::AccountId.eq(account_id))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Deletes the account's passkey. With `keep_one` (the account has no password), the
    /// last one is kept: the count and the delete happen in one transaction that first
    /// locks the account's row (PostgreSQL; SQLite writers take turns anyway), so two
    /// deletes racing cannot each leave the other's passkey as the last and remove it.
    pub async fn delete(
        &self,
        account_id: Uuid,
        id: Uuid,
        keep_one: bool,
    ) -> Result<Deleted, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        if keep_one {
            user::Entity::find_by_id(account_id)
                .lock_exclusive()
                .all(&txn)
                .await?;
            let count = passkey::Entity::find()
                .filter(Column::AccountId.eq(account_id))
                .count(&txn)
                .await?;
            if count <= 1 {
                let mine = passkey::Entity::find()
                    .filter(Column::Id.eq(id))
                    .filter(Column::AccountId.eq(account_id))
                    .count(&txn)
                    .await?;
                txn.rollback().await?;
                return Ok(if mine == 1 {
                    Deleted::LastWayIn
                } else {
                    Deleted::NotFound
                });
            }
        }
        let result = passkey::Entity::delete_many()
            .filter(Column::Id.eq(id))
            .filter(Column::AccountId.eq(account_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(if result.rows_affected == 1 {
            Deleted::Deleted
        } else {
            Deleted::NotFound
        })
    }
}
