//! `totp`: one row per account that has enrolled an authenticator app (RFC 6238).
//!
//! The secret is not hashed: verifying a code needs it. It is sealed (encrypted, bound to
//! its row) when `secret_key_file` is set; otherwise it is kept as it is, and whoever can
//! read this table can mint codes.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The shared secret, base32 (RFC 4648, no padding), as the authenticator app has it;
    /// or that, sealed (`sealed:v1:...`, see the API's `store::sealing`).
    pub secret: SensitiveText,
    /// When a confirmed code turned TOTP on; null while the enrolment awaits confirmation.
    pub enabled_at: Option<DateTimeUtc>,
    /// The latest 30-second time step whose code was accepted: only later steps are
    /// accepted next, so a code works once.
    pub last_used_step: Option<i64>,
    /// When this secret was issued.
    pub created_at: DateTimeUtc,
}

/// Never prints the secret.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("user_id", &self.user_id)
            .field("enabled_at", &self.enabled_at)
            .field("last_used_step", &self.last_used_step)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
