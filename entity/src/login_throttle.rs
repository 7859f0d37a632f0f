//! `login_throttle`: consecutive failed logins per account, so every instance sharing the
//! database sees the same lock.
//!
//! The key is an account id, or for a login name no account has, a stable stand-in id
//! (a version-8 UUID derived from the name), so unknown names are counted like real ones.
//! That is why there is no foreign key to `users`. A row exists only while failures are
//! being counted: a successful login deletes it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    /// Consecutive failures since the last success (or since they were forgotten).
    pub failures: i32,
    /// The lock runs from here, for as long as the schedule gives `failures`.
    pub last_failure_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
