//! `email_tokens` queries: finding a live token, and spending one together with the
//! change it authorises, in one transaction whose first statement is the conditional
//! update that spends it: of any number of requests racing with one token, exactly one
//! sees a row affected and goes on; the others change nothing.

use chrono::{DateTime, Utc};
use latchkey_entity::{auth_header, email_token, login_throttle, session, user};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait as _, DatabaseTransaction, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};
use uuid::Uuid;

use super::auth_events::Journal;
use super::auth_headers::delete_returning;
use super::outbox::{NewMail, enqueue_on};
use super::sessions::revoke_returning;
use super::unique::UniqueRow as _;
use super::{Db, StoreError};
use crate::auth::events::NewAuthEvent;

pub use email_token::Model as EmailTokenRow;

#[derive(Clone)]
pub struct EmailTokens {
    db: Db,
}

/// A password set through a reset token.
pub struct PasswordReset<'a> {
    pub token_hash: &'a str,
    pub user_id: Uuid,
    /// The address the link went to: following it proves the address.
    pub email: &'a str,
    pub new_hash: String,
    /// The security notice to send with it, if any.
    pub notice: Option<NewMail>,
    /// Written if following the link verified the address (it was not verified before).
    pub verified_event: NewAuthEvent,
}

impl EmailTokens {
    pub(super) fn new(db: Db) -> EmailTokens {
        EmailTokens { db }
    }

    /// The live (unspent, unexpired) token with this hash and purpose.
    pub async fn find_live(
        &self,
        hash: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<EmailTokenRow>, StoreError> {
        Ok(email_token::Entity::find_by_id(hash.to_owned())
            .filter(email_token::Column::Purpose.eq(purpose))
            .filter(email_token::Column::UsedAt.is_null())
            .filter(email_token::Column::ExpiresAt.gt(now))
            .unique(self.db.reader())
            .await?)
    }

    /// The account's newest live token for `purpose`.
    pub async fn newest_live_for(
        &self,
        user_id: Uuid,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<EmailTokenRow>, StoreError> {
        Ok(email_token::Entity::find()
            .filter(email_token::Column::UserId.eq(user_id))
            .filter(email_token::Column::Purpose.eq(purpose))
            .filter(email_token::Column::UsedAt.is_null())
            .filter(email_token::Column::ExpiresAt.gt(now))
            .order_by_desc(email_token::Column::CreatedAt)
            .all(self.db.reader())
            .await?
            .into_iter()
            .next())
    }

    /// Counts a wrong code against a token; the `max_failures`-th voids it.
    pub async fn code_failed(
        &self,
        hash: &str,
        max_failures: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let failures = Expr::col(email_token::Column::CodeFailures).add(1);
        let void = Expr::case(
            Expr::col(email_token::Column::CodeFailures).gte(max_failures - 1),
            Expr::value(now),
        )
        .finally(Expr::value(None::<DateTime<Utc>>));
        email_token::Entity::update_many()
            .col_expr(email_token::Column::CodeFailures, failures)
            .col_expr(email_token::Column::UsedAt, void.into())
            .filter(email_token::Column::TokenHash.eq(hash))
            .filter(email_token::Column::UsedAt.is_null())
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Spends a verification token and marks the address verified, if the account still
    /// has that address. `false` if the token was no longer live (spent by a racing
    /// request, expired) or the address changed meanwhile.
    pub async fn verify_email(
        &self,
        hash: &str,
        user_id: Uuid,
        email: &str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        if !spend(&txn, hash, now).await? {
            return Ok(false);
        }
        let verified = user::Entity::update_many()
            .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::Email.eq(email))
            .exec(&txn)
            .await?;
        if verified.rows_affected != 1 {
            return Ok(false);
        }
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Spends an email-change token and, in the same transaction, gives the account its
    /// new address, verified (following the link proved it), and voids every other live
    /// mail token of the account (they were for the old address). `Ok(false)` if the token
    /// was no longer live; `Conflict("email")` if another account has the address now.
    pub async fn change_email(
        &self,
        hash: &str,
        user_id: Uuid,
        new_email: &str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        if !spend(&txn, hash, now).await? {
            return Ok(false);
        }
        // A unique violation here rolls the whole transaction back: the link stays live
        // and says CONFLICT again until it expires or the address is free.
        let changed = user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(new_email))
            .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Ok(false);
        }
        email_token::Entity::update_many()
            .col_expr(email_token::Column::UsedAt, Expr::value(now))
            .filter(email_token::Column::UserId.eq(user_id))
            .filter(email_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Spends a reset token and, in the same transaction, sets the new password, ends
    /// every session and personal token of the account, forgets its failed logins (the
    /// lock) and enqueues the notice. `false` if the token was no longer live.
    pub async fn reset_password(
        &self,
        reset: PasswordReset<'_>,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        if !spend(&txn, reset.token_hash, now).await? {
            return Ok(false);
        }
        let id = reset.user_id;
        let changed = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(reset.new_hash))
            .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Ok(false);
        }
        let verified = user::Entity::update_many()
            .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::Email.eq(reset.email))
            .filter(user::Column::EmailVerifiedAt.is_null())
            .exec(&txn)
            .await?;
        let ended =
            revoke_returning(&txn, session::Column::UserId.eq(id), "password_reset", now).await?;
        let deleted_tokens = delete_returning(&txn, auth_header::Column::UserId.eq(id)).await?;
        login_throttle::Entity::delete_by_id(id).exec(&txn).await?;
        // Every other reset link of the account dies with this one, and so does a pending
        // email change: the owner taking the account back cancels what a thief asked.
        void_tokens(&txn, id, &["password_reset", EMAIL_CHANGE], now).await?;
        if let Some(notice) = reset.notice {
            enqueue_on(&txn, notice, now).await?;
        }
        if verified.rows_affected == 1 {
            journal.push(reset.verified_event);
        }
        journal.write_all(&txn, &ended, &deleted_tokens).await?;
        txn.commit().await?;
        Ok(true)
    }
}

/// The purpose of email-change tokens (`auth::email::tokens::EMAIL_CHANGE_PURPOSE`).
const EMAIL_CHANGE: &str = "email_change";

/// Voids the account's live tokens of these purposes.
pub(super) async fn void_tokens(
    txn: &DatabaseTransaction,
    user_id: Uuid,
    purposes: &[&str],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(now))
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.is_in(purposes.iter().copied()))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// A password change cancels a pending email change.
pub(super) async fn void_email_change(
    txn: &DatabaseTransaction,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    void_tokens(txn, user_id, &[EMAIL_CHANGE], now).await
}

/// The conditional update that spends a live token: `true` for the one caller that did.
async fn spend(
    txn: &DatabaseTransaction,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let spent = email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(now))
        .filter(email_token::Column::TokenHash.eq(hash))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?;
    Ok(spent.rows_affected == 1)
}
