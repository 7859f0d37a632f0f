//! `login_throttle` queries: consecutive failed logins per account.
//!
//! A failure is counted with one upsert whose update is `failures = failures + 1` in the
//! database, never a read followed by a write, so failures racing on one instance or on
//! several are all counted, on SQLite and PostgreSQL alike.

use chrono::{DateTime, Utc};
use latchkey_entity::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, Set};
use uuid::Uuid;

use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub use login_throttle::Model as ThrottleRow;

#[derive(Clone)]
pub struct LoginThrottle {
    db: Db,
}

impl LoginThrottle {
    pub(super) fn new(db: Db) -> LoginThrottle {
        LoginThrottle { db }
    }

    pub async fn find(&self, account_id: Uuid) -> Result<Option<ThrottleRow>, StoreError> {
        Ok(login_throttle::Entity::find_by_id(account_id)
            .unique(self.db.reader())
            .await?)
    }

    /// Counts one failure at `now`. A count whose last failure is older than
    /// `forget_before` starts again from one.
    pub async fn record_failure(
        &self,
        account_id: Uuid,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let stored = |column| Expr::col((login_throttle::Entity, column));
        let failures = Expr::case(
            stored(login_throttle::Column::LastFailureAt).lt(forget_before),
            Expr::val(1),
        )
        .finally(stored(login_throttle::Column::Failures).add(1));
        login_throttle::Entity::insert(login_throttle::ActiveModel {
            account_id: Set(account_id),
            failures: Set(1),
            last_failure_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(login_throttle::Column::AccountId)
                .value(login_throttle::Column::Failures, failures)
                .update_column(login_throttle::Column::LastFailureAt)
                .to_owned(),
        )
        .exec_without_returning(&*self.db.writer().await)
        .await?;
        Ok(())
    }

    /// Forgets the account's failures (a successful login).
    pub async fn clear(&self, account_id: Uuid) -> Result<(), StoreError> {
        login_throttle::Entity::delete_by_id(account_id)
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Deletes the counts whose last failure is older than `cutoff`; how many.
    pub async fn sweep(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = login_throttle::Entity::delete_many()
            .filter(login_throttle::Column::LastFailureAt.lt(cutoff))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(deleted.rows_affected)
    }
}
