//! `mail_outbox` queries: enqueueing mail (alone or inside another change's transaction),
//! the delivery worker's claims and outcomes, the limits' counts, and pruning.
//!
//! A claim is a conditional update (`... WHERE id = ? AND claim free AND due`): of any
//! number of workers, on one instance or several sharing the database, exactly one sees
//! a row affected, on SQLite and PostgreSQL alike. Only the claim's holder may record the
//! outcome; a holder that dies leaves the claim to expire, and the row is taken again.

use chrono::{DateTime, Utc};
use latchkey_entity::{email_token, mail_outbox, user};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, Set,
    TransactionTrait as _,
};
use uuid::Uuid;

use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub use mail_outbox::Model as OutboxRow;

pub const REQUESTED: &str = "requested";
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const DROPPED: &str = "dropped";

/// A mail to send, as the change that calls for it knows it.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub kind: &'static str,
    pub user_id: Option<Uuid>,
    pub recipient: String,
    pub client_ip: Option<String>,
}

/// A message rendered by the worker.
pub struct Rendered {
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A token minted for a message, stored in the transaction that stores the message.
pub struct NewEmailToken {
    pub hash: String,
    pub user_id: Uuid,
    pub purpose: &'static str,
    pub email: String,
    pub code_hash: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// What preparing a message does to the account's mail tokens.
pub enum TokenWrite {
    /// Nothing (a notice).
    None,
    /// Voids the account's live tokens of `purpose`, minting none: a message sent in
    /// place of one that would have carried a token, which must leave the account's
    /// tokens exactly as that one would have.
    Void {
        user_id: Uuid,
        purpose: &'static str,
    },
    /// Stores this token, voiding the account's earlier live ones of its purpose.
    Mint(NewEmailToken),
}

/// Rows by status, for `latchkey mail status`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCounts {
    pub sent: u64,
    pub failed: u64,
    pub pending: u64,
    pub dropped: u64,
}

#[derive(Clone)]
pub struct Outbox {
    db: Db,
}

/// Inserts a mail request on `conn`: alone, or inside the transaction of the change that
/// calls for it.
pub(super) async fn enqueue_on<C: ConnectionTrait>(
    conn: &C,
    mail: NewMail,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    mail_outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(mail.kind.to_owned()),
        user_id: Set(mail.user_id),
        recipient: Set(mail.recipient),
        client_ip: Set(mail.client_ip),
        status: Set(REQUESTED.to_owned()),
        subject: Set(None),
        body_text: Set(None),
        body_html: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        claim_id: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

fn waiting() -> Condition {
    Condition::any()
        .add(mail_outbox::Column::Status.eq(REQUESTED))
        .add(mail_outbox::Column::Status.eq(PENDING))
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(mail_outbox::Column::ClaimedUntil.is_null())
        .add(mail_outbox::Column::ClaimedUntil.lt(now))
}

impl Outbox {
    pub(super) fn new(db: Db) -> Outbox {
        Outbox { db }
    }

    pub async fn enqueue(&self, mail: NewMail, now: DateTime<Utc>) -> Result<(), StoreError> {
        enqueue_on(&*self.db.writer().await, mail, now).await?;
        Ok(())
    }

    /// Enqueues several mails in one transaction: all of them or none.
    pub async fn enqueue_all(
        &self,
        mails: Vec<NewMail>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        for mail in mails {
            enqueue_on(&txn, mail, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Mails requested for `recipient`, and by `client_ip`, since `since`.
    pub async fn recent_counts(
        &self,
        recipient: &str,
        client_ip: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u64, u64), StoreError> {
        let to_recipient = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::Recipient.eq(recipient))
            .filter(mail_outbox::Column::CreatedAt.gte(since))
            .count(self.db.reader())
            .await?;
        let from_client = match client_ip {
            Some(ip) => {
                mail_outbox::Entity::find()
                    .filter(mail_outbox::Column::ClientIp.eq(ip))
                    .filter(mail_outbox::Column::CreatedAt.gte(since))
                    .count(self.db.reader())
                    .await?
            }
            None => 0,
        };
        Ok((to_recipient, from_client))
    }

    /// Claims up to `limit` due rows until `lease_until`; each with the claim that holds it.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<(Uuid, OutboxRow)>, StoreError> {
        let candidates: Vec<Uuid> = mail_outbox::Entity::find()
            .select_only()
            .column(mail_outbox::Column::Id)
            .filter(waiting())
            .filter(mail_outbox::Column::NextAttemptAt.lte(now))
            .filter(unclaimed(now))
            .order_by_asc(mail_outbox::Column::CreatedAt)
            .limit(limit)
            .into_tuple()
            .all(self.db.reader())
            .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            let claim = Uuid::new_v4();
            let taken = mail_outbox::Entity::update_many()
                .col_expr(mail_outbox::Column::ClaimId, Expr::value(claim))
                .col_expr(mail_outbox::Column::ClaimedUntil, Expr::value(lease_until))
                .filter(mail_outbox::Column::Id.eq(id))
                .filter(waiting())
                .filter(mail_outbox::Column::NextAttemptAt.lte(now))
                .filter(unclaimed(now))
                .exec(&*self.db.writer().await)
                .await?;
            if taken.rows_affected != 1 {
                continue; // Another worker was first.
            }
            if let Some(row) = mail_outbox::Entity::find_by_id(id)
                .unique(self.db.reader())
                .await?
            {
                claimed.push((claim, row));
            }
        }
        Ok(claimed)
    }

    /// Stores the rendered message of a claimed `requested` row, and what it does to the
    /// account's tokens, in one transaction: the token it carries is stored, and any live
    /// token of the same account and purpose minted before is void from then on. `false`
    /// if the claim was lost.
    pub async fn prepare(
        &self,
        id: Uuid,
        claim: Uuid,
        rendered: Rendered,
        tokens: TokenWrite,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let writer = self.db.writer().await;
        let txn = writer.begin().await?;
        let prepared = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::Status, Expr::value(PENDING))
            .col_expr(
                mail_outbox::Column::Recipient,
                Expr::value(rendered.recipient),
            )
            .col_expr(mail_outbox::Column::Subject, Expr::value(rendered.subject))
            .col_expr(mail_outbox::Column::BodyText, Expr::value(rendered.text))
            .col_expr(mail_outbox::Column::BodyHtml, Expr::value(rendered.html))
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::ClaimId.eq(claim))
            .filter(mail_outbox::Column::Status.eq(REQUESTED))
            .exec(&txn)
            .await?;
        if prepared.rows_affected != 1 {
            return Ok(false);
        }
        let (void, token) = match tokens {
            TokenWrite::None => (None, None),
            TokenWrite::Void { user_id, purpose } => (Some((user_id, purpose)), None),
            TokenWrite::Mint(token) => (Some((token.user_id, token.purpose)), Some(token)),
        };
        if let Some((user_id, purpose)) = void {
            email_token::Entity::update_many()
                .col_expr(email_token::Column::UsedAt, Expr::value(now))
                .filter(email_token::Column::UserId.eq(user_id))
                .filter(email_token::Column::Purpose.eq(purpose))
                .filter(email_token::Column::UsedAt.is_null())
                .exec(&txn)
                .await?;
        }
        if let Some(token) = token {
            email_token::ActiveModel {
                token_hash: Set(token.hash.into()),
                user_id: Set(token.user_id),
                purpose: Set(token.purpose.to_owned()),
                email: Set(token.email),
                code_hash: Set(token.code_hash.map(Into::into)),
                code_failures: Set(0),
                created_at: Set(now),
                expires_at: Set(token.expires_at),
                used_at: Set(None),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// Records that a claimed row has nothing to send.
    pub async fn drop_claimed(
        &self,
        id: Uuid,
        claim: Uuid,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish(id, claim, DROPPED, Some(why), None, now).await
    }

    /// Records the delivery of a claimed row; its bodies (and the token in them) are wiped.
    pub async fn mark_sent(
        &self,
        id: Uuid,
        claim: Uuid,
        attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish(id, claim, SENT, None, Some(attempts), now)
            .await
    }

    /// Gives a claimed row up after its last failed attempt.
    pub async fn mark_failed(
        &self,
        id: Uuid,
        claim: Uuid,
        attempts: i32,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish(id, claim, FAILED, Some(error), Some(attempts), now)
            .await
    }

    async fn finish(
        &self,
        id: Uuid,
        claim: Uuid,
        status: &'static str,
        error: Option<&str>,
        attempts: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut update = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::Status, Expr::value(status))
            .col_expr(mail_outbox::Column::BodyText, Expr::value(None::<String>))
            .col_expr(mail_outbox::Column::BodyHtml, Expr::value(None::<String>))
            .col_expr(mail_outbox::Column::ClaimId, Expr::value(None::<Uuid>))
            .col_expr(
                mail_outbox::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(
                mail_outbox::Column::LastError,
                Expr::value(error.map(str::to_owned)),
            );
        if status == SENT {
            update = update.col_expr(mail_outbox::Column::SentAt, Expr::value(now));
        }
        if let Some(attempts) = attempts {
            update = update.col_expr(mail_outbox::Column::Attempts, Expr::value(attempts));
        }
        update
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::ClaimId.eq(claim))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Releases a claimed row after a failed attempt, to be tried again at `next_at`.
    pub async fn retry_later(
        &self,
        id: Uuid,
        claim: Uuid,
        attempts: i32,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::Attempts, Expr::value(attempts))
            .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(next_at))
            .col_expr(mail_outbox::Column::LastError, Expr::value(error))
            .col_expr(mail_outbox::Column::ClaimId, Expr::value(None::<Uuid>))
            .col_expr(
                mail_outbox::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(mail_outbox::Column::Id.eq(id))
            .filter(mail_outbox::Column::ClaimId.eq(claim))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// How many rows are in each state.
    pub async fn counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows: Vec<(String, i64)> = mail_outbox::Entity::find()
            .select_only()
            .column(mail_outbox::Column::Status)
            .column_as(mail_outbox::Column::Id.count(), "n")
            .group_by(mail_outbox::Column::Status)
            .into_tuple()
            .all(self.db.reader())
            .await?;
        let mut counts = OutboxCounts::default();
        for (status, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                SENT => counts.sent += n,
                FAILED => counts.failed += n,
                DROPPED => counts.dropped += n,
                _ => counts.pending += n,
            }
        }
        Ok(counts)
    }

    /// Deletes finished rows created before `before`, and tokens spent or expired before
    /// it; how many rows went.
    pub async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let writer = self.db.writer().await;
        let mail = mail_outbox::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(mail_outbox::Column::Status.eq(SENT))
                    .add(mail_outbox::Column::Status.eq(FAILED))
                    .add(mail_outbox::Column::Status.eq(DROPPED)),
            )
            .filter(mail_outbox::Column::CreatedAt.lt(before))
            .exec(&*writer)
            .await?;
        let tokens = email_token::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(email_token::Column::UsedAt.lt(before))
                    .add(email_token::Column::ExpiresAt.lt(before)),
            )
            .exec(&*writer)
            .await?;
        Ok(mail.rows_affected + tokens.rows_affected)
    }

    /// The account a mail concerns, for rendering (no password hash leaves the store
    /// layer's callers' hands: the worker reads the fields it renders).
    pub async fn account(&self, id: Uuid) -> Result<Option<user::Model>, StoreError> {
        Ok(user::Entity::find_by_id(id)
            .unique(self.db.reader())
            .await?)
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<user::Model>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .unique(self.db.reader())
            .await?)
    }
}
