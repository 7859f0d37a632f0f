//! `totp_recovery_codes`: the single-use codes that stand in for an authenticator app
//! that is lost. Shown once when TOTP is turned on; only their SHA-256 is kept.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_recovery_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// Hex SHA-256 of the code's canonical form; unique per owner.
    pub code_hash: SensitiveText,
    pub created_at: DateTimeUtc,
    /// When it was spent; a spent code is never accepted again.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
