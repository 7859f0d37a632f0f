//! `users`: one row per account.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// As the user wrote it (trimmed), for display.
    pub username: String,
    /// Lower-cased username: the unique key, so `Alice` and `alice` cannot both exist.
    #[sea_orm(unique)]
    pub username_key: String,
    /// Stored lower-cased; unique when present.
    #[sea_orm(unique)]
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: SensitiveText,
    pub password_changed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    /// When TOTP was turned on; null when it is off. A copy of `totp.enabled_at`, kept
    /// here so reading an account (`me`, `login`) needs no second query.
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// When the current `email` was proved to reach its owner; null when it has not been
    /// (or there is none). Changing the address clears it.
    pub email_verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
