//! `login_throttle` queries: consecutive failed logins per account (or known device), and
//! the login attempts under way for it.
//!
//! Every decision is one statement that the database evaluates against the row as it is
//! when the statement runs, never a read followed by a write: a failure is counted with
//! an upsert whose update is `failures = failures + 1`, and an attempt is admitted with an
//! `UPDATE ... WHERE <the rule holds>` that both checks and takes the reservation. Two
//! such statements on one row queue behind each other (PostgreSQL's row lock, which
//! re-checks the `WHERE` against the row the first one wrote; SQLite's write lock), so
//! attempts racing on one instance or on several are all counted, on both databases.

use chrono::{DateTime, Utc};
use latchkey_entity::login_throttle::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _, Set, TransactionTrait as _,
};
use uuid::Uuid;

use super::auth_events::Journal;
use super::unique::UniqueRow as _;
use super::{Db, StoreError};
use crate::auth::events::NewAuthEvent;

pub use login_throttle::Model as ThrottleRow;

/// The rule an attempt is admitted by, for one moment, as plain values the database
/// compares (see `auth::throttle::account_lock::LockSchedule::admission`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub now: DateTime<Utc>,
    /// Attempts admitted now are held until then unless released sooner.
    pub hold_until: DateTime<Utc>,
    /// Failures whose last one is older than this count as none.
    pub forget_before: DateTime<Utc>,
    /// Failures plus attempts under way may not reach this.
    pub free_failures: i32,
    /// `(failures, t)`: with exactly `failures` counted (beyond the free ones), the lock is
    /// over once the last failure is at or before `t`.
    pub lock_steps: Vec<(i32, DateTime<Utc>)>,
    /// The same, for every larger count: the longest lock.
    pub longest_lock_over: DateTime<Utc>,
}

/// How an attempt ended, for [`LoginThrottle::release`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A wrong password or one-time password: counted, at `at`. Failures last counted
    /// before `forget_before` are forgotten first.
    Failed {
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    },
    /// The owner got in: the failures are forgotten.
    Succeeded,
    /// Neither (a missing one-time password, an error, a dropped request).
    Abandoned,
}

/// What [`LoginThrottle::reserve`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    Taken,
    /// Not admitted; the row as read just after, to tell the client how long to wait.
    Refused(Option<ThrottleRow>),
}

/// "No failure counted": `last_failure_at` is not nullable, and with no failures its value
/// only has to be older than any forgetting horizon.
pub fn no_failure() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn stored(column: Column) -> Expr {
    Expr::col((login_throttle::Entity, column))
}

/// The failures that still count: none once the last is older than `forget_before`.
fn failures_counted(forget_before: DateTime<Utc>) -> Expr {
    Expr::case(
        stored(Column::LastFailureAt).lt(forget_before),
        Expr::val(0),
    )
    .finally(stored(Column::Failures))
    .into()
}

/// The attempts still under way: none once their hold has lapsed (or there is none).
fn in_flight_held(now: DateTime<Utc>) -> Expr {
    Expr::case(
        stored(Column::ReservedUntil).gt(now),
        stored(Column::InFlight),
    )
    .finally(Expr::val(0))
    .into()
}

/// One fewer attempt under way, never below zero.
fn one_released() -> Expr {
    Expr::case(
        stored(Column::InFlight).gt(0),
        stored(Column::InFlight).sub(1),
    )
    .finally(Expr::val(0))
    .into()
}

impl Admission {
    /// When the lock of the row's failure count is over, by `lock_steps`.
    fn lock_over(&self) -> Expr {
        let longest = Expr::val(self.longest_lock_over);
        let mut steps = self.lock_steps.iter();
        let Some((count, over)) = steps.next() else {
            return longest;
        };
        let mut case = Expr::case(stored(Column::Failures).eq(*count), Expr::val(*over));
        for (count, over) in steps {
            case = case.case(stored(Column::Failures).eq(*count), Expr::val(*over));
        }
        case.finally(longest).into()
    }

    /// True for a row that may take one more attempt now.
    fn admits(&self) -> Condition {
        let failures = failures_counted(self.forget_before);
        let in_flight = in_flight_held(self.now);
        let lock_over = self.lock_over();
        Condition::any()
            // Within the free failures: each attempt under way may still fail.
            .add(
                failures
                    .clone()
                    .add(in_flight.clone())
                    .lt(self.free_failures),
            )
            // Beyond them: one attempt at a time, once the lock is over.
            .add(
                Condition::all()
                    .add(failures.gte(self.free_failures))
                    .add(in_flight.eq(0))
                    .add(stored(Column::LastFailureAt).lte(lock_over)),
            )
    }
}

#[derive(Clone)]
pub struct LoginThrottle {
    db: Db,
}

impl LoginThrottle {
    pub(super) fn new(db: Db) -> LoginThrottle {
        LoginThrottle { db }
    }

    pub async fn find(&self, key: Uuid) -> Result<Option<ThrottleRow>, StoreError> {
        Ok(login_throttle::Entity::find_by_id(key)
            .unique(self.db.reader())
            .await?)
    }

    /// Admits one more attempt for `key` if `rule` allows it, and holds it until
    /// `rule.hold_until`. One upsert: the first attempt creates the row (the free failures
    /// are at least one, so it is always admitted); later ones update it only where the
    /// rule holds (`ON CONFLICT ... DO UPDATE ... WHERE`), so the check and the hold are
    /// one statement.
    pub async fn reserve(&self, key: Uuid, rule: &Admission) -> Result<Reservation, StoreError> {
        let taken = login_throttle::Entity::insert(login_throttle::ActiveModel {
            account_id: Set(key),
            failures: Set(0),
            last_failure_at: Set(no_failure()),
            in_flight: Set(1),
            reserved_until: Set(Some(rule.hold_until)),
        })
        .on_conflict(
            OnConflict::column(Column::AccountId)
                .value(Column::InFlight, in_flight_held(rule.now).add(1))
                .value(Column::ReservedUntil, Expr::val(rule.hold_until))
                .action_and_where(rule.admits().into())
                .to_owned(),
        )
        .exec_without_returning(&*self.db.writer().await)
        .await?;
        if taken > 0 {
            return Ok(Reservation::Taken);
        }
        Ok(Reservation::Refused(self.find(key).await?))
    }

    /// Ends an attempt [`LoginThrottle::reserve`] admitted: frees its place and records
    /// how it ended, in one statement, so no other attempt is admitted between the two.
    pub async fn release(&self, key: Uuid, ending: Ending) -> Result<(), StoreError> {
        self.release_recording(key, ending, &mut Journal::new(), |_| None)
            .await
    }

    /// [`LoginThrottle::release`], writing `journal`'s events in the same transaction, and
    /// for a failure the event `locked` makes of the failure count now stored, if any.
    pub async fn release_recording(
        &self,
        key: Uuid,
        ending: Ending,
        journal: &mut Journal,
        locked: impl FnOnce(u32) -> Option<NewAuthEvent>,
    ) -> Result<(), StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        match ending {
            Ending::Failed { at, forget_before } => {
                let failures = Expr::case(
                    stored(Column::LastFailureAt).lt(forget_before),
                    Expr::val(1),
                )
                .finally(stored(Column::Failures).add(1));
                login_throttle::Entity::insert(login_throttle::ActiveModel {
                    account_id: Set(key),
                    failures: Set(1),
                    last_failure_at: Set(at),
                    in_flight: Set(0),
                    reserved_until: Set(None),
                })
                .on_conflict(
                    OnConflict::column(Column::AccountId)
                        .value(Column::Failures, failures)
                        .update_column(Column::LastFailureAt)
                        .value(Column::InFlight, one_released())
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
                let counted = login_throttle::Entity::find_by_id(key)
                    .unique(&txn)
                    .await?
                    .map_or(0, |row| u32::try_from(row.failures).unwrap_or(0));
                if let Some(event) = locked(counted) {
                    journal.push(event);
                }
            }
            Ending::Succeeded => {
                login_throttle::Entity::update_many()
                    .col_expr(Column::Failures, Expr::val(0))
                    .col_expr(Column::LastFailureAt, Expr::val(no_failure()))
                    .col_expr(Column::InFlight, one_released())
                    .filter(Column::AccountId.eq(key))
                    .exec(&txn)
                    .await?;
            }
            Ending::Abandoned => {
                login_throttle::Entity::update_many()
                    .col_expr(Column::InFlight, one_released())
                    .filter(Column::AccountId.eq(key))
                    .exec(&txn)
                    .await?;
            }
        }
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes the rows whose last failure is older than `cutoff` and that hold no
    /// attempt at `now` (rows with no failure count as failed at the epoch); how many.
    pub async fn sweep(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let deleted = login_throttle::Entity::delete_many()
            .filter(Column::LastFailureAt.lt(cutoff))
            .filter(
                Condition::any()
                    .add(Column::ReservedUntil.is_null())
                    .add(Column::ReservedUntil.lte(now)),
            )
            .exec(&*self.db.writer().await)
            .await?;
        Ok(deleted.rows_affected)
    }
}
