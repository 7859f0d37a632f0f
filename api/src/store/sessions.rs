//! `sessions` and `refresh_tokens` queries.
//!
//! Rotation is race-safe by construction: a token is superseded with a conditional
//! `UPDATE ... WHERE superseded_at IS NULL`, and only the caller whose update touched a
//! row gets to issue the successor. Two refreshes racing on one token, on one instance or
//! two, cannot both win.

use chrono::{DateTime, Utc};
use latchkey_entity::sensitive::SensitiveText;
use latchkey_entity::{refresh_token, session, user};
use sea_orm::sea_query::{Expr, ExprTrait as _, SimpleExpr};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QueryTrait as _, SelectTwo, SelectTwoModel, SelectorTrait, Set, Statement,
    TransactionTrait as _,
};
use std::sync::Arc;
use uuid::Uuid;

use super::auth_events::Journal;
use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub use refresh_token::Model as RefreshTokenRow;
pub use session::Model as SessionRow;

use super::users::UserRow;

#[derive(Clone)]
pub struct Sessions {
    db: Db,
    /// The SQL text of [`Sessions::find_with_user`], built once. Every request that
    /// carries an access token runs that query, and having sea-query assemble the same
    /// text each time (quoting each identifier, formatting) is work repeated for nothing:
    /// only the session id changes.
    find_with_user_sql: Arc<str>,
}

/// A login session about to be opened.
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub mode: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// How the login authenticated (`password`, `password+otp`).
    pub authentication_method: &'static str,
}

impl Sessions {
    pub(super) fn new(db: Db) -> Sessions {
        let backend = db.reader().get_database_backend();
        let find_with_user_sql = session_with_user(Uuid::nil()).build(backend).sql.into();
        Sessions {
            db,
            find_with_user_sql,
        }
    }

    /// Opens a session together with its first refresh token.
    pub async fn open(
        &self,
        new: NewSession,
        token_hash: &str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        session::Entity::insert(session::ActiveModel {
            id: Set(new.id),
            user_id: Set(new.user_id),
            mode: Set(new.mode.to_owned()),
            created_at: Set(now),
            last_used_at: Set(Some(now)),
            expires_at: Set(new.expires_at),
            authenticated_at: Set(Some(now)),
            authentication_method: Set(Some(new.authentication_method.to_owned())),
            revoked_at: Set(None),
            revoked_reason: Set(None),
            user_agent: Set(new.user_agent),
            ip: Set(new.ip),
        })
        .exec_without_returning(&txn)
        .await?;
        insert_token(&txn, token_hash, new.id, now).await?;
        journal.write(&txn, &[]).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn find(&self, id: Uuid) -> Result<Option<SessionRow>, StoreError> {
        Ok(session::Entity::find_by_id(id)
            .unique(self.db.reader())
            .await?)
    }

    /// The session and its account, in one query: what every access token's check reads.
    pub async fn find_with_user(
        &self,
        id: Uuid,
    ) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let db = self.db.reader();
        let statement = Statement::from_sql_and_values(
            db.get_database_backend(),
            &*self.find_with_user_sql,
            [id.into()],
        );
        let Some(row) = db.query_one_raw(statement).await? else {
            return Ok(None);
        };
        let (session, user) = SelectTwoModel::<SessionRow, UserRow>::from_raw_query_result(row)?;
        Ok(user.map(|user| (session, user)))
    }

    /// The sessions of one user that are neither revoked nor past their end, newest first.
    pub async fn live_for(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRow>, StoreError> {
        Ok(session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_desc(session::Column::CreatedAt)
            .all(self.db.reader())
            .await?)
    }

    pub async fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRow>, StoreError> {
        Ok(
            refresh_token::Entity::find_by_id(SensitiveText::from(token_hash))
                .unique(self.db.reader())
                .await?,
        )
    }

    /// Supersedes `old_hash`, keeping the seed its successor was derived from, and records
    /// `new_hash` as that successor, in one transaction. `false` when the old token was
    /// already superseded (another refresh won the race: its seed is in the row).
    pub async fn rotate(
        &self,
        session_id: Uuid,
        old_hash: &str,
        successor: (&str, &str),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (new_hash, seed) = successor;
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let superseded = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::SupersededAt, Expr::value(now))
            .col_expr(
                refresh_token::Column::SuccessorSeed,
                Expr::value(SensitiveText::from(seed)),
            )
            .filter(refresh_token::Column::TokenHash.eq(old_hash))
            .filter(refresh_token::Column::SessionId.eq(session_id))
            .filter(refresh_token::Column::SupersededAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if superseded != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        insert_token(&txn, new_hash, session_id, now).await?;
        touch(&txn, session_id, now).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Records a full authentication of a live session: when, and how. `false` when the
    /// session has ended (or does not exist), so an ended one is never made recent again.
    pub async fn record_authentication(
        &self,
        session_id: Uuid,
        method: &'static str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = session::Entity::update_many()
            .col_expr(session::Column::AuthenticatedAt, Expr::value(now))
            .col_expr(session::Column::AuthenticationMethod, Expr::value(method))
            .filter(session::Column::Id.eq(session_id))
            .filter(session::Column::RevokedAt.is_null())
            .filter(session::Column::ExpiresAt.gt(now))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Deletes the sessions that ended (revoked or expired) before `before`, with their
    /// refresh tokens (the rows cascade); how many it deleted.
    pub async fn delete_ended(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let ended = session::Column::RevokedAt
            .lt(before)
            .or(session::Column::ExpiresAt.lt(before));
        let result = session::Entity::delete_many()
            .filter(ended)
            .exec(&*self.db.writer().await)
            .await?;
        Ok(result.rows_affected)
    }

    /// Ends one session, writing `journal` with it. `false` if it was already ended or
    /// does not exist (then nothing is written).
    pub async fn revoke(
        &self,
        session_id: Uuid,
        reason: &'static str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let ended = self
            .revoke_where(session::Column::Id.eq(session_id), reason, journal, now)
            .await?;
        Ok(ended == 1)
    }

    /// Ends one session if it belongs to `user_id`. `false` otherwise, whatever the reason.
    pub async fn revoke_owned(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        reason: &'static str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let which = session::Column::Id
            .eq(session_id)
            .and(session::Column::UserId.eq(user_id));
        Ok(self.revoke_where(which, reason, journal, now).await? == 1)
    }

    /// Ends every live session of a user; how many it ended.
    pub async fn revoke_all_for(
        &self,
        user_id: Uuid,
        reason: &'static str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.revoke_where(session::Column::UserId.eq(user_id), reason, journal, now)
            .await
    }

    /// Ends the sessions `which` picks and writes `journal` (one event per session it
    /// ended, with its id), in one transaction, if it ended any.
    async fn revoke_where(
        &self,
        which: SimpleExpr,
        reason: &'static str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let ended = revoke_returning(&txn, which, reason, now).await?;
        if !ended.is_empty() {
            journal.write(&txn, &ended).await?;
        }
        txn.commit().await?;
        Ok(ended.len() as u64)
    }
}

/// Ends the live sessions `which` picks, in one statement, and names them (`RETURNING`,
/// which SQLite has since 3.35 and PostgreSQL always had): a session ended by a racing
/// statement is not among them, so each end is recorded once.
pub(super) async fn revoke_returning(
    db: &impl ConnectionTrait,
    which: SimpleExpr,
    reason: &'static str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    let mut statement = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(which)
        .filter(session::Column::RevokedAt.is_null())
        .into_query();
    statement.returning_col(session::Column::Id);
    let rows = db.query_all(&statement).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get_by_index::<Uuid>(0))
        .collect::<Result<Vec<_>, _>>()?)
}

async fn insert_token(
    db: &impl ConnectionTrait,
    hash: &str,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        token_hash: Set(hash.into()),
        session_id: Set(session_id),
        created_at: Set(now),
        superseded_at: Set(None),
        successor_seed: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

async fn touch(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    session::Entity::update_many()
        .col_expr(session::Column::LastUsedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The session with this id joined with its account: a unique key, so no LIMIT (see
/// `unique`). Its only parameter is the id.
fn session_with_user(id: Uuid) -> SelectTwo<session::Entity, user::Entity> {
    session::Entity::find_by_id(id).find_also_related(user::Entity)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sea_orm::{DbBackend, Value};

    use super::*;

    /// The text built once must be what the query builder makes for any id, with the id
    /// as its one and only parameter: otherwise the cached text would run a different
    /// query, or bind the id to the wrong place.
    #[test]
    fn the_session_with_user_text_is_the_same_for_every_id_and_binds_only_the_id() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let cached = session_with_user(Uuid::nil()).build(backend).sql;
            for id in [Uuid::now_v7(), Uuid::max()] {
                let built = session_with_user(id).build(backend);
                assert_eq!(built.sql, cached, "{backend:?}");
                let values = built.values.unwrap().0;
                assert_eq!(values, vec![Value::from(id)], "{backend:?}");
            }
            assert!(!cached.to_uppercase().contains("LIMIT"), "{cached}");
        }
    }
}
