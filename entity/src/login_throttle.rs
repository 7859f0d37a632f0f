//! `login_throttle`: consecutive failed logins per account, so every instance sharing the
//! database sees the same lock.
//!
//! The key is an account id, or for a login name no account has, a stable stand-in id
//! (a version-8 UUID derived from the name), so unknown names are counted like real ones.
//! That is why there is no foreign key to `users`. A known device's failures are counted
//! here too, under the device's id (see `known_device`).
//!
//! A login reserves its attempt here before its password is hashed (`in_flight`), so
//! attempts running at once cannot overshoot the free failures. A row exists while failures
//! are counted or attempts are under way; the throttle's sweep deletes it once both are
//! over.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    /// Consecutive failures since the last success (or since they were forgotten).
    pub failures: i32,
    /// The lock runs from here, for as long as the schedule gives `failures`. With no
    /// failures counted it is the Unix epoch.
    pub last_failure_at: DateTimeUtc,
    /// Attempts reserved and not yet released; counts only until `reserved_until`.
    pub in_flight: i32,
    /// When the reservations lapse unreleased (an instance stopped mid-attempt).
    pub reserved_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
