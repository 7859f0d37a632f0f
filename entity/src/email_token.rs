//! `email_tokens`: the secrets a mail carries (verify an address, reset a password),
//! stored only as SHA-256.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    /// Hex SHA-256 of the token in the link.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: SensitiveText,
    pub user_id: Uuid,
    /// `verify_email`, `password_reset` or `email_change`.
    pub purpose: String,
    /// The address the mail went to: a verification proves this address only; for an
    /// email change, the new address the account gets when the token is spent.
    pub email: String,
    /// Hex SHA-256 of the short code shown beside the link, when the mail shows one.
    pub code_hash: Option<SensitiveText>,
    /// Wrong codes tried against this token; past the limit the token is void.
    pub code_failures: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When it was spent (or voided by a newer one); null while it is live.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
