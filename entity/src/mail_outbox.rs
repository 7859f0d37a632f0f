//! `mail_outbox`: every mail the server means to send, from the request that caused it to
//! the worker's last attempt.
//!
//! A row is written in the same transaction as the change that calls for the mail, so a
//! crash between commit and send loses nothing: the delivery worker finds the row later.
//! A row starts `requested` (the worker still has to read the account, mint any token
//! and render the message), becomes `pending` once its message is rendered, and ends
//! `sent`, `failed` (given up) or `dropped` (nothing to send: no such account, address no
//! longer current). A rendered message may hold a live token, so the bodies are wiped
//! when the row leaves `pending`.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What the mail is for (`verify_email`, `password_reset`, `password_changed`, ...).
    pub kind: String,
    /// The account it concerns, when known at request time.
    pub user_id: Option<Uuid>,
    /// The address it goes to, lower-cased.
    pub recipient: String,
    /// The client address that caused it, for the per-client limit.
    pub client_ip: Option<String>,
    /// `requested`, `pending`, `sent`, `failed` or `dropped`.
    pub status: String,
    pub subject: Option<String>,
    pub body_text: Option<SensitiveText>,
    pub body_html: Option<SensitiveText>,
    /// Delivery attempts made so far.
    pub attempts: i32,
    /// Not tried again before this instant (backoff).
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds the row until then; after it (a crashed worker) another may take it.
    pub claimed_until: Option<DateTimeUtc>,
    /// Which claim holds the row: only its holder may record the outcome.
    pub claim_id: Option<Uuid>,
    /// The last delivery error, for operators (never a token: SMTP errors do not echo bodies).
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
