//! `users` queries.

use chrono::{DateTime, Utc};
use latchkey_entity::{auth_header, session, user};
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::ExprTrait as _;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    Set, TransactionTrait as _,
};
use uuid::Uuid;

use super::auth_events::Journal;
use super::auth_headers::delete_returning;
use super::outbox::{NewMail, enqueue_on};
use super::sessions::revoke_returning;
use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub use user::Model as UserRow;

#[derive(Clone)]
pub struct Users {
    db: Db,
}

/// What a password change does besides ending the other sessions, in its transaction.
pub struct AlongWithPasswordChange<'a> {
    /// Delete every personal token of the account.
    pub end_personal_tokens: bool,
    /// The security notice to write.
    pub notice: Option<NewMail>,
    /// The events to write (one per session ended and per personal token deleted too).
    pub journal: &'a mut Journal,
}

/// Everything needed to create an account.
pub struct NewUser {
    pub id: Uuid,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub role: &'static str,
    pub password_hash: String,
    pub now: DateTime<Utc>,
}

impl Users {
    pub(super) fn new(db: Db) -> Users {
        Users { db }
    }

    /// Inserts an account, and in the same transaction the mail that welcomes it (the
    /// address verification); a taken username or email is `Conflict`.
    pub async fn insert(
        &self,
        new: NewUser,
        mail: Option<NewMail>,
        journal: &mut Journal,
    ) -> Result<UserRow, StoreError> {
        let now = new.now;
        let row = user::ActiveModel {
            id: Set(new.id),
            username: Set(new.username),
            username_key: Set(new.username_key),
            email: Set(new.email),
            firstname: Set(new.firstname),
            lastname: Set(new.lastname),
            role: Set(new.role.to_owned()),
            password_hash: Set(new.password_hash.into()),
            password_changed_at: Set(new.now),
            created_at: Set(new.now),
            totp_enabled_at: Set(None),
            email_verified_at: Set(None),
        };
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let row = row.insert(&txn).await?;
        if let Some(mail) = mail {
            enqueue_on(&txn, mail, now).await?;
        }
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(row)
    }

    pub async fn find(&self, id: Uuid) -> Result<Option<UserRow>, StoreError> {
        Ok(user::Entity::find_by_id(id)
            .unique(self.db.reader())
            .await?)
    }

    /// By the case-folded username.
    pub async fn find_by_username_key(&self, key: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::UsernameKey.eq(key))
            .unique(self.db.reader())
            .await?)
    }

    /// By the lower-cased email.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .unique(self.db.reader())
            .await?)
    }

    /// Replaces the hash of an unchanged password (stronger parameters); the password's
    /// age is not reset.
    pub async fn upgrade_password_hash(
        &self,
        id: Uuid,
        old_hash: &str,
        new_hash: String,
    ) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(new_hash))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::PasswordHash.eq(old_hash))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Sets a new password and ends every other session of the account (and, if asked,
    /// deletes its personal tokens), in one transaction. Conditional on the hash the caller verified, so of two changes racing
    /// from the same old password only one wins (`false` for the loser).
    pub async fn change_password(
        &self,
        id: Uuid,
        verified_hash: &str,
        new_hash: String,
        keep_session: Option<Uuid>,
        along: AlongWithPasswordChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let AlongWithPasswordChange {
            end_personal_tokens,
            notice,
            journal,
        } = along;
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let changed = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(new_hash))
            .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::PasswordHash.eq(verified_hash))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Ok(false);
        }
        let mut others = session::Column::UserId.eq(id);
        if let Some(keep) = keep_session {
            others = others.and(session::Column::Id.ne(keep));
        }
        let ended = revoke_returning(&txn, others, "password_changed", now).await?;
        // A pending email change dies with the old password: a thief who asked for one
        // loses it when the owner changes the password.
        super::email_tokens::void_email_change(&txn, id, now).await?;
        let deleted_tokens = if end_personal_tokens {
            delete_returning(&txn, auth_header::Column::UserId.eq(id)).await?
        } else {
            Vec::new()
        };
        if let Some(notice) = notice {
            enqueue_on(&txn, notice, now).await?;
        }
        journal.write_all(&txn, &ended, &deleted_tokens).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Sets an account's role and writes `journal`, in one transaction; `false` if there
    /// is no such account (nothing is written).
    pub async fn set_role(
        &self,
        id: Uuid,
        role: &'static str,
        journal: &mut Journal,
    ) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let updated = user::Entity::update_many()
            .col_expr(user::Column::Role, Expr::value(role))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Every account, oldest first (for operators).
    pub async fn all(&self) -> Result<Vec<UserRow>, StoreError> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .all(self.db.reader())
            .await?)
    }

    /// Deletes an account and writes `journal`, in one transaction; its sessions, refresh
    /// tokens and personal tokens go with it (foreign keys cascade). `false` if there was
    /// none (nothing is written).
    pub async fn delete(&self, id: Uuid, journal: &mut Journal) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let deleted = user::Entity::delete_by_id(id).exec(&txn).await?;
        if deleted.rows_affected != 1 {
            return Ok(false);
        }
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(true)
    }

    pub async fn any_admin(&self) -> Result<bool, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Role.eq("admin"))
            .one(self.db.reader())
            .await?
            .is_some())
    }
}
