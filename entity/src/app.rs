//! `apps`: projects allowed to call the API with a project API key (`lka_...`), and the
//! browser origins each may call from. Only the key's SHA-256 is kept; the key itself is
//! shown once, by `latchkey app add`.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "apps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The operator's name for it (`app delete NAME`): 1 to 64 letters, digits, `.`, `_`, `-`.
    #[sea_orm(unique)]
    pub name: String,
    /// Hex SHA-256 of the key; unique, and how a presented key is found.
    #[sea_orm(unique)]
    pub key_hash: SensitiveText,
    /// `lka_` and the first characters of the key, so a listing can identify it.
    pub key_prefix: String,
    /// Allowed origins, normalised (`https://app.example.com`), one a line. Plain text
    /// rather than a database array or JSON type, so the column is the same everywhere.
    #[sea_orm(column_type = "Text")]
    pub origins: String,
    /// Refuse requests that carry no `Origin` header.
    pub require_origin: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
