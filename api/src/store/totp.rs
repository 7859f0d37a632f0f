//! `totp` and `totp_recovery_codes` queries, always scoped to the account.
//!
//! Every state change that must happen once is a conditional write whose affected-row
//! count decides: a time step is recorded only if it is later than the last one, a
//! recovery code is spent only if it is unspent. Two logins racing with one code, on one
//! instance or two, on SQLite or PostgreSQL, cannot both get through.
//!
//! The secret is sealed on the way in and opened on the way out when a sealing key is
//! configured (`sealing`).

use chrono::{DateTime, Utc};
use latchkey_entity::sensitive::SensitiveText;
use latchkey_entity::{totp, totp_recovery_code, user};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, QueryFilter as _, Set,
    TransactionTrait as _,
};
use secrecy::SecretString;
use uuid::Uuid;

use super::auth_events::Journal;
use super::sealing::{Sealer, totp_place};
use super::unique::UniqueRow as _;
use super::{Db, StoreError};

/// An account's TOTP row, its secret opened.
#[derive(Debug)]
pub struct TotpRow {
    pub user_id: Uuid,
    /// The shared secret, base32.
    pub secret: SecretString,
    pub enabled_at: Option<DateTime<Utc>>,
    pub last_used_step: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The secret's column exactly as stored (sealed or not): `enable` confirms only the
    /// enrolment that still holds it.
    stored: SensitiveText,
}

#[derive(Clone)]
pub struct Totp {
    db: Db,
    sealer: Sealer,
}

impl Totp {
    pub(super) fn new(db: Db, sealer: Sealer) -> Totp {
        Totp { db, sealer }
    }

    /// The account's TOTP row, pending or enabled. A secret that does not open (sealed by
    /// another key, or altered, or copied from another account's row) is an error: the
    /// account's codes cannot be checked, and no code is accepted.
    pub async fn find(&self, user_id: Uuid) -> Result<Option<TotpRow>, StoreError> {
        let Some(row) = totp::Entity::find_by_id(user_id)
            .unique(self.db.reader())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(TotpRow {
            user_id: row.user_id,
            secret: self
                .sealer
                .open(&totp_place(row.user_id), row.secret.expose())?,
            enabled_at: row.enabled_at,
            last_used_step: row.last_used_step,
            created_at: row.created_at,
            stored: row.secret,
        }))
    }

    /// Stores `secret` as a pending enrolment, replacing a pending one. `false` (and
    /// nothing written) when TOTP is already on: one upsert whose update is conditional on
    /// the row still being pending, so a racing confirmation is never overwritten.
    pub async fn enroll(
        &self,
        user_id: Uuid,
        secret: &SecretString,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let stored = self.sealer.seal(&totp_place(user_id), secret)?;
        let written = totp::Entity::insert(totp::ActiveModel {
            user_id: Set(user_id),
            secret: Set(stored.into()),
            enabled_at: Set(None),
            last_used_step: Set(None),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(totp::Column::UserId)
                .update_columns([
                    totp::Column::Secret,
                    totp::Column::LastUsedStep,
                    totp::Column::CreatedAt,
                ])
                .action_and_where(Expr::col((totp::Entity, totp::Column::EnabledAt)).is_null())
                .to_owned(),
        )
        .exec_without_returning(&*self.db.writer().await)
        .await?;
        Ok(written == 1)
    }

    /// Turns TOTP on: the pending enrolment `pending`, if its row still holds exactly the
    /// secret read (so a re-enrolment racing in is not confirmed by the old secret's
    /// code), becomes enabled with `step` recorded as used, the account's flag is set, and
    /// the recovery codes are replaced by `code_hashes`, all in one transaction. `false`
    /// when no such enrolment is pending.
    pub async fn enable(
        &self,
        pending: &TotpRow,
        step: i64,
        code_hashes: &[String],
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let user_id = pending.user_id;
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let enabled = totp::Entity::update_many()
            .col_expr(totp::Column::EnabledAt, Expr::value(now))
            .col_expr(totp::Column::LastUsedStep, Expr::value(step))
            .filter(totp::Column::UserId.eq(user_id))
            .filter(totp::Column::Secret.eq(pending.stored.expose()))
            .filter(totp::Column::EnabledAt.is_null())
            .exec(&txn)
            .await?;
        if enabled.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        set_account_flag(&txn, user_id, Some(now)).await?;
        delete_recovery_codes(&txn, user_id).await?;
        let codes = code_hashes
            .iter()
            .map(|hash| totp_recovery_code::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                code_hash: Set(hash.as_str().into()),
                created_at: Set(now),
                used_at: Set(None),
            });
        totp_recovery_code::Entity::insert_many(codes)
            .exec_without_returning(&txn)
            .await?;
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Records `step` as the latest used one, if TOTP is on and `step` is later than the
    /// last used step. `false` when it is not: the code was already used (or an older
    /// one), or another request with the same code got there first.
    pub async fn record_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError> {
        let recorded = totp::Entity::update_many()
            .col_expr(totp::Column::LastUsedStep, Expr::value(step))
            .filter(totp::Column::UserId.eq(user_id))
            .filter(totp::Column::EnabledAt.is_not_null())
            .filter(
                Condition::any()
                    .add(totp::Column::LastUsedStep.is_null())
                    .add(totp::Column::LastUsedStep.lt(step)),
            )
            .exec(&*self.db.writer().await)
            .await?;
        Ok(recorded.rows_affected == 1)
    }

    /// Spends the account's unspent recovery code with this hash. `false` when there is
    /// none: unknown, someone else's, already spent, or spent by a racing request.
    pub async fn spend_recovery_code(
        &self,
        user_id: Uuid,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let spent = totp_recovery_code::Entity::update_many()
            .col_expr(totp_recovery_code::Column::UsedAt, Expr::value(now))
            .filter(totp_recovery_code::Column::UserId.eq(user_id))
            .filter(totp_recovery_code::Column::CodeHash.eq(code_hash))
            .filter(totp_recovery_code::Column::UsedAt.is_null())
            .exec(&*self.db.writer().await)
            .await?;
        Ok(spent.rows_affected == 1)
    }

    /// Turns TOTP off: deletes the secret (enabled or pending) and every recovery code,
    /// and clears the account's flag, in one transaction. `true` if TOTP was on.
    pub async fn disable(&self, user_id: Uuid, journal: &mut Journal) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let was_on = totp::Entity::delete_many()
            .filter(totp::Column::UserId.eq(user_id))
            .filter(totp::Column::EnabledAt.is_not_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        // A pending enrolment goes too.
        totp::Entity::delete_many()
            .filter(totp::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        delete_recovery_codes(&txn, user_id).await?;
        set_account_flag(&txn, user_id, None).await?;
        if was_on {
            journal.write(&txn, &[]).await?;
        }
        txn.commit().await?;
        Ok(was_on)
    }
}

async fn set_account_flag(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    enabled_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    user::Entity::update_many()
        .col_expr(user::Column::TotpEnabledAt, Expr::value(enabled_at))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn delete_recovery_codes(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), StoreError> {
    totp_recovery_code::Entity::delete_many()
        .filter(totp_recovery_code::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
