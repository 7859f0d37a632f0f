//! `auth_headers` queries: personal tokens, always scoped to their owner.

use chrono::{DateTime, Utc};
use latchkey_entity::{auth_header, user};
use sea_orm::sea_query::{Expr, ExprTrait as _, SimpleExpr};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QueryTrait as _, Set, TransactionTrait as _,
};
use uuid::Uuid;

use super::auth_events::Journal;
use super::unique::UniqueRow as _;
use super::users::UserRow;
use super::{Db, StoreError};

pub use auth_header::Model as AuthHeaderRow;

#[derive(Clone)]
pub struct AuthHeaders {
    db: Db,
}

/// A personal token about to be stored (its hash, never the token).
pub struct NewAuthHeader {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a personal token could not be added.
#[derive(Debug)]
pub enum AddRefused {
    /// The owner already holds this many live tokens.
    AtLimit(u64),
    /// The owner no longer exists.
    NoOwner,
}

impl AuthHeaders {
    pub(super) fn new(db: Db) -> AuthHeaders {
        AuthHeaders { db }
    }

    /// Stores a token unless its owner already holds `limit` live ones. The count and the
    /// insert run in one transaction that first writes the owner's row, so concurrent adds
    /// for one user queue behind each other (a row lock on PostgreSQL, the write lock on
    /// SQLite) and cannot overshoot the limit together. A taken name is `Conflict`.
    pub async fn add(
        &self,
        new: NewAuthHeader,
        limit: u64,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<Result<AuthHeaderRow, AddRefused>, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let owner = user::Entity::update_many()
            .col_expr(user::Column::Id, Expr::col(user::Column::Id))
            .filter(user::Column::Id.eq(new.user_id))
            .exec(&txn)
            .await?;
        if owner.rows_affected != 1 {
            return Ok(Err(AddRefused::NoOwner));
        }
        let live = auth_header::Entity::find()
            .filter(auth_header::Column::UserId.eq(new.user_id))
            .filter(live(now))
            .count(&txn)
            .await?;
        if live >= limit {
            return Ok(Err(AddRefused::AtLimit(live)));
        }
        let row = auth_header::Model {
            id: new.id,
            user_id: new.user_id,
            name: new.name,
            token_hash: new.token_hash.into(),
            prefix: new.prefix,
            created_at: now,
            last_used_at: None,
            expires_at: new.expires_at,
        };
        auth_header::Entity::insert(auth_header::ActiveModel {
            id: Set(row.id),
            user_id: Set(row.user_id),
            name: Set(row.name.clone()),
            token_hash: Set(row.token_hash.clone()),
            prefix: Set(row.prefix.clone()),
            created_at: Set(row.created_at),
            last_used_at: Set(None),
            expires_at: Set(row.expires_at),
        })
        .exec_without_returning(&txn)
        .await?;
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(Ok(row))
    }

    /// Every token of one owner, newest first, expired ones included (so they can be seen
    /// and deleted).
    pub async fn of_user(&self, user_id: Uuid) -> Result<Vec<AuthHeaderRow>, StoreError> {
        Ok(auth_header::Entity::find()
            .filter(auth_header::Column::UserId.eq(user_id))
            .order_by_desc(auth_header::Column::CreatedAt)
            .order_by_desc(auth_header::Column::Id)
            .all(self.db.reader())
            .await?)
    }

    /// The token with this hash and the account that owns it, in one query (by the
    /// unique index on the hash): what every personal token's check reads.
    pub async fn find_by_hash_with_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(AuthHeaderRow, UserRow)>, StoreError> {
        Ok(auth_header::Entity::find()
            .filter(auth_header::Column::TokenHash.eq(token_hash))
            .find_also_related(user::Entity)
            .unique(self.db.reader())
            .await?
            .and_then(|(token, user)| Some((token, user?))))
    }

    /// Deletes the owner's token with this id, writing `journal` with it; `false` if
    /// there is none (or not theirs).
    pub async fn delete_by_id(
        &self,
        user_id: Uuid,
        id: Uuid,
        journal: &mut Journal,
    ) -> Result<bool, StoreError> {
        self.delete_where(user_id, auth_header::Column::Id.eq(id), journal)
            .await
    }

    /// Deletes the owner's token with this hash, writing `journal` with it; `false` if
    /// there is none (or not theirs).
    pub async fn delete_by_hash(
        &self,
        user_id: Uuid,
        token_hash: &str,
        journal: &mut Journal,
    ) -> Result<bool, StoreError> {
        self.delete_where(
            user_id,
            auth_header::Column::TokenHash.eq(token_hash),
            journal,
        )
        .await
    }

    /// Records a use, unless one was recorded less than `every` ago (by any instance).
    pub async fn touch(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        every: chrono::Duration,
    ) -> Result<(), StoreError> {
        auth_header::Entity::update_many()
            .col_expr(auth_header::Column::LastUsedAt, Expr::value(now))
            .filter(auth_header::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(auth_header::Column::LastUsedAt.is_null())
                    .add(auth_header::Column::LastUsedAt.lt(now - every)),
            )
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Deletes every token of the owner, writing `journal` (one event per token) with
    /// them; how many there were.
    pub async fn delete_all_of(
        &self,
        user_id: Uuid,
        journal: &mut Journal,
    ) -> Result<u64, StoreError> {
        self.delete_matching(auth_header::Column::UserId.eq(user_id), journal)
            .await
    }

    async fn delete_where(
        &self,
        user_id: Uuid,
        which: SimpleExpr,
        journal: &mut Journal,
    ) -> Result<bool, StoreError> {
        let which = auth_header::Column::UserId.eq(user_id).and(which);
        Ok(self.delete_matching(which, journal).await? == 1)
    }

    async fn delete_matching(
        &self,
        which: SimpleExpr,
        journal: &mut Journal,
    ) -> Result<u64, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let deleted = delete_returning(&txn, which).await?;
        if !deleted.is_empty() {
            journal.write_all(&txn, &[], &deleted).await?;
        }
        txn.commit().await?;
        Ok(deleted.len() as u64)
    }
}

/// Deletes the personal tokens `which` picks and names them (`RETURNING`), so each
/// deletion is recorded once even when two requests race.
pub(super) async fn delete_returning(
    db: &impl ConnectionTrait,
    which: SimpleExpr,
) -> Result<Vec<Uuid>, StoreError> {
    let mut statement = auth_header::Entity::delete_many()
        .filter(which)
        .into_query();
    statement.returning_col(auth_header::Column::Id);
    let rows = db.query_all(&statement).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Not past its expiry (a token without one never expires).
fn live(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(auth_header::Column::ExpiresAt.is_null())
        .add(auth_header::Column::ExpiresAt.gt(now))
}
