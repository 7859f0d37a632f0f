//! `webauthn_challenges`: the server's half of a WebAuthn ceremony under way. Single use
//! (consumed by one conditional DELETE), short-lived, bound to its ceremony and, where
//! known, its account.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_challenges")]
pub struct Model {
    /// Hex SHA-256 of the challenge's bytes: a finish finds its row from the challenge the
    /// browser signed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub challenge_hash: String,
    /// `register`, `login` or `second_factor`.
    pub ceremony: String,
    /// The account the ceremony is for; null for a discoverable login.
    pub account_id: Option<Uuid>,
    /// webauthn-rs's ceremony state (JSON); holds the challenge itself.
    #[sea_orm(column_type = "Text")]
    pub state: SensitiveText,
    /// What the ceremony carries besides: the new passkey's name for `register`.
    #[sea_orm(column_type = "Text", nullable)]
    pub payload: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
