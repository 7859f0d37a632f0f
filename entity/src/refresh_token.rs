//! `refresh_tokens`: every refresh token a session has issued, by hash.
//!
//! A token is live while `superseded_at` is null. Rotating it stamps `superseded_at` and
//! `successor_seed` (a conditional update, so two racing refreshes cannot both win) and
//! inserts its successor. Superseded rows are kept until the session goes: presenting one again
//! after the grace window is how reuse is detected.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// SHA-256 of the token, hex. The token itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: SensitiveText,
    pub session_id: Uuid,
    pub created_at: DateTimeUtc,
    pub superseded_at: Option<DateTimeUtc>,
    /// Set with `superseded_at`: the random seed the successor was derived from (with the
    /// token itself, which only its holder has), so the token presented again within the
    /// grace window gets that same successor back. Hex.
    pub successor_seed: Option<SensitiveText>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
