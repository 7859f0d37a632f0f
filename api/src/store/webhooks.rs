//! `webhook_endpoints` queries, and the reads of `auth_events` that delivery needs.
//!
//! Like the mail outbox, every step that must happen once is a conditional write decided
//! by its affected-row count: an endpoint is claimed only if no live claim holds it, and
//! only the claim's holder may move its cursor or record a failure, so two instances
//! never deliver the same endpoint's events at the same time.

use chrono::{DateTime, Utc};
use latchkey_entity::{auth_event, webhook_endpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set,
};
use secrecy::SecretString;
use uuid::Uuid;

use super::sealing::{Sealer, webhook_secret_place};
use super::unique::UniqueRow as _;
use super::{Db, StoreError};

pub const ACTIVE: &str = "active";
pub const DISABLED: &str = "disabled";

/// An endpoint as listed: everything but the secret.
#[derive(Debug, Clone)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub event_kinds: String,
    pub event_cursor: i64,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<webhook_endpoint::Model> for EndpointRow {
    fn from(row: webhook_endpoint::Model) -> Self {
        EndpointRow {
            id: row.id,
            url: row.url,
            event_kinds: row.event_kinds,
            event_cursor: row.event_cursor,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            failing_since: row.failing_since,
            last_error: row.last_error,
            last_delivered_at: row.last_delivered_at,
            created_at: row.created_at,
        }
    }
}

/// A claimed endpoint, its secret opened, for the worker.
#[derive(Debug)]
pub struct ClaimedEndpoint {
    pub claim: Uuid,
    pub row: EndpointRow,
    pub secret: SecretString,
}

pub struct NewEndpoint {
    pub id: Uuid,
    pub url: String,
    pub secret: SecretString,
    pub event_kinds: String,
    pub now: DateTime<Utc>,
}

/// One `auth_events` row as delivery reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    /// The JSON text of the event's detail.
    pub detail: String,
}

/// What a failed attempt records.
pub struct Failure<'a> {
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub failing_since: DateTime<Utc>,
    pub error: &'a str,
    /// The endpoint has failed for too long: it is disabled, keeping its cursor.
    pub disable: bool,
}

/// The delivery backlog, for metrics and `latchkey webhook list`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Events that active endpoints still have to receive, summed over endpoints.
    pub pending_events: u64,
    /// Active endpoints whose last attempt failed.
    pub failing_endpoints: u64,
    pub disabled_endpoints: u64,
}

#[derive(Clone)]
pub struct Webhooks {
    db: Db,
    sealer: Sealer,
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(webhook_endpoint::Column::ClaimedUntil.is_null())
        .add(webhook_endpoint::Column::ClaimedUntil.lt(now))
}

impl Webhooks {
    pub(super) fn new(db: Db, sealer: Sealer) -> Webhooks {
        Webhooks { db, sealer }
    }

    /// Adds an endpoint whose cursor is the newest event now: it receives what happens
    /// from now on.
    pub async fn insert(&self, new: NewEndpoint) -> Result<EndpointRow, StoreError> {
        let secret = self
            .sealer
            .seal(&webhook_secret_place(new.id), &new.secret)?;
        let writer = self.db.writer().await;
        let cursor = self.newest_event_id_on(&*writer).await?;
        let row = webhook_endpoint::ActiveModel {
            id: Set(new.id),
            url: Set(new.url),
            secret: Set(secret.into()),
            event_kinds: Set(new.event_kinds),
            event_cursor: Set(cursor),
            status: Set(ACTIVE.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(new.now),
            failing_since: Set(None),
            claim_id: Set(None),
            claimed_until: Set(None),
            last_error: Set(None),
            last_delivered_at: Set(None),
            created_at: Set(new.now),
        }
        .insert(&*writer)
        .await?;
        Ok(row.into())
    }

    /// Every endpoint, oldest first.
    pub async fn all(&self) -> Result<Vec<EndpointRow>, StoreError> {
        Ok(webhook_endpoint::Entity::find()
            .order_by_asc(webhook_endpoint::Column::CreatedAt)
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(EndpointRow::from)
            .collect())
    }

    pub async fn delete(&self, id: Uuid) -> Result<bool, StoreError> {
        let deleted = webhook_endpoint::Entity::delete_by_id(id)
            .exec(&*self.db.writer().await)
            .await?;
        Ok(deleted.rows_affected == 1)
    }

    /// Makes an endpoint active and due now, with its cursor where it stopped.
    pub async fn enable(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let updated = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Status, Expr::value(ACTIVE))
            .col_expr(webhook_endpoint::Column::Attempts, Expr::value(0))
            .col_expr(webhook_endpoint::Column::NextAttemptAt, Expr::value(now))
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(webhook_endpoint::Column::Id.eq(id))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    async fn newest_event_id_on(
        &self,
        db: &impl sea_orm::ConnectionTrait,
    ) -> Result<i64, StoreError> {
        let newest = auth_event::Entity::find()
            .select_only()
            .column_as(auth_event::Column::Id.max(), "newest")
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?;
        Ok(newest.flatten().unwrap_or(0))
    }

    /// Active endpoints due now that no live claim holds, without their secrets.
    pub async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<EndpointRow>, StoreError> {
        Ok(webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Status.eq(ACTIVE))
            .filter(webhook_endpoint::Column::NextAttemptAt.lte(now))
            .filter(unclaimed(now))
            .order_by_asc(webhook_endpoint::Column::NextAttemptAt)
            .limit(limit)
            .all(self.db.reader())
            .await?
            .into_iter()
            .map(EndpointRow::from)
            .collect())
    }

    /// Up to `limit` events after `cursor`, oldest first, of the given kinds (`None`: all).
    /// Read through the event engine's entity, so the column types (`occurred_at`, `detail`)
    /// are the engine's on every backend.
    pub async fn events_after(
        &self,
        cursor: i64,
        kinds: Option<&[String]>,
        limit: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut query = auth_event::Entity::find().filter(auth_event::Column::Id.gt(cursor));
        if let Some(kinds) = kinds {
            query = query.filter(auth_event::Column::Kind.is_in(kinds.iter().cloned()));
        }
        let rows = query
            .order_by_asc(auth_event::Column::Id)
            .limit(limit)
            .all(self.db.reader())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| StoredEvent {
                id: row.id,
                occurred_at: row.occurred_at,
                kind: row.kind,
                user_id: row.user_id,
                session_id: row.session_id,
                client_address: row.client_address,
                user_agent: row.user_agent,
                detail: row.detail,
            })
            .collect())
    }

    /// How many events after `cursor` there are of the given kinds (`None`: all).
    async fn count_after(&self, cursor: i64, kinds: Option<&[String]>) -> Result<u64, StoreError> {
        let mut query = auth_event::Entity::find().filter(auth_event::Column::Id.gt(cursor));
        if let Some(kinds) = kinds {
            query = query.filter(auth_event::Column::Kind.is_in(kinds.iter().cloned()));
        }
        Ok(query.count(self.db.reader()).await?)
    }

    /// Claims the endpoint until `lease_until` if it is still due and unclaimed, and opens
    /// its secret. `None` when another worker was first.
    pub async fn claim(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedEndpoint>, StoreError> {
        let claim = Uuid::new_v4();
        let taken = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::ClaimId, Expr::value(claim))
            .col_expr(
                webhook_endpoint::Column::ClaimedUntil,
                Expr::value(lease_until),
            )
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::Status.eq(ACTIVE))
            .filter(webhook_endpoint::Column::NextAttemptAt.lte(now))
            .filter(unclaimed(now))
            .exec(&*self.db.writer().await)
            .await?;
        if taken.rows_affected != 1 {
            return Ok(None);
        }
        let Some(row) = webhook_endpoint::Entity::find_by_id(id)
            .unique(self.db.reader())
            .await?
        else {
            return Ok(None);
        };
        let secret = self
            .sealer
            .open(&webhook_secret_place(row.id), row.secret.expose())?;
        Ok(Some(ClaimedEndpoint {
            claim,
            row: row.into(),
            secret,
        }))
    }

    /// Moves the cursor past a delivered event (or past events the endpoint skips), and
    /// clears any failure; `false` if the claim was lost.
    pub async fn advance(
        &self,
        id: Uuid,
        claim: Uuid,
        event_id: i64,
        delivered_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut update = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::EventCursor, Expr::value(event_id))
            .col_expr(webhook_endpoint::Column::Attempts, Expr::value(0))
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(
                webhook_endpoint::Column::LastError,
                Expr::value(None::<String>),
            );
        if let Some(at) = delivered_at {
            update = update.col_expr(webhook_endpoint::Column::LastDeliveredAt, Expr::value(at));
        }
        let updated = update
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::ClaimId.eq(claim))
            .filter(webhook_endpoint::Column::EventCursor.lt(event_id))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Records a failed attempt and releases the claim.
    pub async fn record_failure(
        &self,
        id: Uuid,
        claim: Uuid,
        failure: Failure<'_>,
    ) -> Result<(), StoreError> {
        let error: String = failure.error.chars().take(500).collect();
        let mut update = webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::Attempts,
                Expr::value(failure.attempts),
            )
            .col_expr(
                webhook_endpoint::Column::NextAttemptAt,
                Expr::value(failure.next_attempt_at),
            )
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(failure.failing_since),
            )
            .col_expr(webhook_endpoint::Column::LastError, Expr::value(error))
            .col_expr(webhook_endpoint::Column::ClaimId, Expr::value(None::<Uuid>))
            .col_expr(
                webhook_endpoint::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            );
        if failure.disable {
            update = update.col_expr(webhook_endpoint::Column::Status, Expr::value(DISABLED));
        }
        update
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::ClaimId.eq(claim))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// Lets go of a claim (nothing more to deliver for now).
    pub async fn release(&self, id: Uuid, claim: Uuid) -> Result<(), StoreError> {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::ClaimId, Expr::value(None::<Uuid>))
            .col_expr(
                webhook_endpoint::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::ClaimId.eq(claim))
            .exec(&*self.db.writer().await)
            .await?;
        Ok(())
    }

    /// The backlog: for each active endpoint the matching events after its cursor.
    pub async fn backlog(&self) -> Result<Backlog, StoreError> {
        let mut backlog = Backlog::default();
        for endpoint in self.all().await? {
            if endpoint.status != ACTIVE {
                backlog.disabled_endpoints += 1;
                continue;
            }
            if endpoint.failing_since.is_some() {
                backlog.failing_endpoints += 1;
            }
            let kinds = kinds_of(&endpoint.event_kinds);
            backlog.pending_events += self
                .count_after(endpoint.event_cursor, kinds.as_deref())
                .await?;
        }
        Ok(backlog)
    }
}

/// The kinds a stored filter lists, or `None` for every kind.
pub fn kinds_of(stored: &str) -> Option<Vec<String>> {
    (stored != "*").then(|| {
        stored
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect()
    })
}
