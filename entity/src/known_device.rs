//! `known_devices`: browsers an account has logged in from (OWASP "device cookies").
//! Only the SHA-256 of the device cookie is kept. A login that presents a device's cookie
//! is throttled by the device's own failures (counted in `login_throttle` under the
//! device's id), not by its account's lock.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "known_devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    /// Hex SHA-256 of the device cookie's value; unique, and how a cookie is found.
    #[sea_orm(unique)]
    pub token_hash: SensitiveText,
    pub created_at: DateTimeUtc,
    /// The last successful login from this device.
    pub last_used_at: DateTimeUtc,
    /// The device is forgotten after this (each successful login from it moves it on).
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AccountId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
