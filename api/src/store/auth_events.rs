//! `auth_events` queries: writing events inside other changes' transactions, reading the
//! log newest first by id, and deleting what retention no longer keeps.

use chrono::{DateTime, Utc};
use latchkey_entity::auth_event;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, Set,
};
use serde_json::Value;
use uuid::Uuid;

use super::{Db, StoreError};
use crate::auth::events::{AuthEvent, AuthEventKind, NewAuthEvent};

/// Rows deleted per statement when pruning, so no delete holds the table for long.
const PRUNE_BATCH: u64 = 1000;

/// Writes one event with `db` (a transaction: the change it records commits with it, or
/// neither does) and returns it as stored, with its id.
pub async fn record(db: &impl ConnectionTrait, new: NewAuthEvent) -> Result<AuthEvent, StoreError> {
    let detail = Value::Object(new.detail.clone()).to_string();
    let inserted = auth_event::Entity::insert(auth_event::ActiveModel {
        id: sea_orm::NotSet,
        occurred_at: Set(new.occurred_at),
        kind: Set(new.kind.as_str().to_owned()),
        user_id: Set(new.user_id),
        session_id: Set(new.session_id),
        client_address: Set(new.client_address.clone()),
        user_agent: Set(new.user_agent.clone()),
        detail: Set(detail),
    })
    .exec(db)
    .await?;
    Ok(AuthEvent::written(inserted.last_insert_id, new))
}

/// The events a change records, handed to the store method making the change, which
/// writes them in its transaction when (and only when) the change happens. Afterwards it
/// holds the events as written, for the domain to publish once the transaction committed.
#[derive(Debug, Default)]
pub struct Journal {
    pending: Vec<NewAuthEvent>,
    /// Written once for each session the change ends, with that session's id.
    per_ended_session: Option<NewAuthEvent>,
    /// Written once for each personal token the change deletes, with its id in
    /// `detail.tokenId`.
    per_deleted_token: Option<NewAuthEvent>,
    written: Vec<AuthEvent>,
}

impl Journal {
    pub fn new() -> Journal {
        Journal::default()
    }

    /// A journal of this one event.
    pub fn of(event: NewAuthEvent) -> Journal {
        Journal {
            pending: vec![event],
            ..Journal::default()
        }
    }

    pub fn push(&mut self, event: NewAuthEvent) {
        self.pending.push(event);
    }

    #[must_use]
    pub fn with(mut self, event: NewAuthEvent) -> Journal {
        self.pending.push(event);
        self
    }

    /// `template` once for every session the change ends (after the other events).
    #[must_use]
    pub fn per_ended_session(mut self, template: NewAuthEvent) -> Journal {
        self.per_ended_session = Some(template);
        self
    }

    /// `template` once for every personal token the change deletes (after the sessions).
    #[must_use]
    pub fn per_deleted_token(mut self, template: NewAuthEvent) -> Journal {
        self.per_deleted_token = Some(template);
        self
    }

    /// Writes the pending events, then one per session in `ended`.
    pub(crate) async fn write(
        &mut self,
        db: &impl ConnectionTrait,
        ended: &[Uuid],
    ) -> Result<(), StoreError> {
        self.write_all(db, ended, &[]).await
    }

    /// Writes the pending events, then one per session in `ended`, then one per personal
    /// token in `deleted_tokens`.
    pub(crate) async fn write_all(
        &mut self,
        db: &impl ConnectionTrait,
        ended: &[Uuid],
        deleted_tokens: &[Uuid],
    ) -> Result<(), StoreError> {
        for event in std::mem::take(&mut self.pending) {
            self.written.push(record(db, event).await?);
        }
        if let Some(template) = self.per_ended_session.take() {
            for session in ended {
                self.written
                    .push(record(db, template.for_session(*session)).await?);
            }
        }
        if let Some(template) = self.per_deleted_token.take() {
            for token in deleted_tokens {
                let event = template.clone().detail("tokenId", token.to_string());
                self.written.push(record(db, event).await?);
            }
        }
        Ok(())
    }

    /// The events written (none if the change did not happen).
    pub fn into_written(self) -> Vec<AuthEvent> {
        self.written
    }
}

/// Which events a listing wants.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub user_id: Option<Uuid>,
    pub kind: Option<AuthEventKind>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub struct AuthEvents {
    db: Db,
}

impl AuthEvents {
    pub(super) fn new(db: Db) -> AuthEvents {
        AuthEvents { db }
    }

    /// Events matching `filter`, newest first, with ids below `before_id` if given; at
    /// most `limit`.
    pub async fn newest_first(
        &self,
        filter: &EventFilter,
        before_id: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuthEvent>, StoreError> {
        let mut query = auth_event::Entity::find();
        if let Some(user) = filter.user_id {
            query = query.filter(auth_event::Column::UserId.eq(user));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(auth_event::Column::Kind.eq(kind.as_str()));
        }
        if let Some(from) = filter.from {
            query = query.filter(auth_event::Column::OccurredAt.gte(from));
        }
        if let Some(until) = filter.until {
            query = query.filter(auth_event::Column::OccurredAt.lt(until));
        }
        if let Some(before) = before_id {
            query = query.filter(auth_event::Column::Id.lt(before));
        }
        let rows = query
            .order_by_desc(auth_event::Column::Id)
            .limit(limit)
            .all(self.db.reader())
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    /// Events with ids above `after_id`, oldest first, at most `limit`: how a reader that
    /// remembers the last id it saw catches up.
    pub async fn after(&self, after_id: i64, limit: u64) -> Result<Vec<AuthEvent>, StoreError> {
        let rows = auth_event::Entity::find()
            .filter(auth_event::Column::Id.gt(after_id))
            .order_by_asc(auth_event::Column::Id)
            .limit(limit)
            .all(self.db.reader())
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    /// The events with these ids that exist, oldest first.
    pub async fn by_ids(&self, ids: &[i64]) -> Result<Vec<AuthEvent>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = auth_event::Entity::find()
            .filter(auth_event::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(auth_event::Column::Id)
            .all(self.db.reader())
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    /// `user`'s events with ids above `after_id`, oldest first, at most `limit`: how a
    /// subscriber to one account's events catches up after it fell behind.
    pub async fn after_for_user(
        &self,
        user: Uuid,
        after_id: i64,
        limit: u64,
    ) -> Result<Vec<AuthEvent>, StoreError> {
        let rows = auth_event::Entity::find()
            .filter(auth_event::Column::UserId.eq(user))
            .filter(auth_event::Column::Id.gt(after_id))
            .order_by_asc(auth_event::Column::Id)
            .limit(limit)
            .all(self.db.reader())
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    /// The id of the newest event, 0 when there is none.
    pub async fn last_id(&self) -> Result<i64, StoreError> {
        let newest = auth_event::Entity::find()
            .order_by_desc(auth_event::Column::Id)
            .one(self.db.reader())
            .await?;
        Ok(newest.map_or(0, |row| row.id))
    }

    /// Deletes the events that occurred before `before`, a batch per statement; how many.
    pub async fn delete_before(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let batch = Query::select()
                .column(auth_event::Column::Id)
                .from(auth_event::Entity)
                .and_where(auth_event::Column::OccurredAt.lt(before))
                .order_by(auth_event::Column::Id, sea_orm::Order::Asc)
                .limit(PRUNE_BATCH)
                .to_owned();
            let result = auth_event::Entity::delete_many()
                .filter(auth_event::Column::Id.in_subquery(batch))
                .exec(&*self.db.writer().await)
                .await?;
            deleted += result.rows_affected;
            if result.rows_affected < PRUNE_BATCH {
                return Ok(deleted);
            }
        }
    }
}

fn from_row(row: auth_event::Model) -> Result<AuthEvent, StoreError> {
    let detail = match serde_json::from_str::<Value>(&row.detail) {
        Ok(Value::Object(map)) => map,
        Ok(_) | Err(_) => return Err(StoreError::Corrupt("auth_events.detail")),
    };
    Ok(AuthEvent {
        id: row.id,
        occurred_at: row.occurred_at,
        kind: AuthEventKind::parse(&row.kind),
        kind_name: row.kind,
        user_id: row.user_id,
        session_id: row.session_id,
        client_address: row.client_address,
        user_agent: row.user_agent,
        detail,
    })
}
