//! `webhook_endpoints`: where the server POSTs its auth events, and how far each endpoint
//! has got.
//!
//! `auth_events` is the outbox: an event is written once, in the transaction of the change
//! it records, and each endpoint keeps a cursor, the id of the last event it is done with
//! (delivered, or skipped by its filter). Delivering means reading the next matching event
//! after the cursor, POSTing it, and moving the cursor on a 2xx, so an endpoint gets its
//! events in order, at least once, across restarts.
//!
//! A failure leaves the cursor where it is and puts `next_attempt_at` off (backoff); an
//! endpoint that has failed for `webhook_give_up_after` without a success is `disabled`
//! and keeps its cursor, so `latchkey webhook enable` resumes where it stopped.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The `http` or `https` URL events are POSTed to.
    pub url: String,
    /// The signing secret (`whsec_...`), sealed when `secret_key_file` is set. Not hashed:
    /// every delivery is signed with it.
    pub secret: SensitiveText,
    /// Comma-separated event kinds, or `*` for every kind.
    pub event_kinds: String,
    /// The id of the last `auth_events` row this endpoint is done with.
    pub event_cursor: i64,
    /// `active` or `disabled`.
    pub status: String,
    /// Failed attempts at the event after the cursor.
    pub attempts: i32,
    /// Not tried before this instant (backoff).
    pub next_attempt_at: DateTimeUtc,
    /// The first failure since the last success, if the endpoint is failing.
    pub failing_since: Option<DateTimeUtc>,
    /// Which worker holds the endpoint: only its holder may move the cursor.
    pub claim_id: Option<Uuid>,
    /// The holder's lease; after it (a crashed worker) another may take the endpoint.
    pub claimed_until: Option<DateTimeUtc>,
    /// The last delivery error, for operators (a status or a transport error, never a body).
    pub last_error: Option<String>,
    pub last_delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
