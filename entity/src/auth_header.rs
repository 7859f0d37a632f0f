//! `auth_headers`: personal tokens (`lk_...`), long-lived credentials a user makes for
//! scripts and servers. Only the token's SHA-256 is kept; the token itself is shown once.

use sea_orm::entity::prelude::*;

use crate::sensitive::SensitiveText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_headers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The owner's label for it; unique per owner.
    pub name: String,
    /// Hex SHA-256 of the token; unique, and how a presented token is found.
    #[sea_orm(unique)]
    pub token_hash: SensitiveText,
    /// `lk_` and the first characters of the token, so a listing can identify it.
    pub prefix: String,
    pub created_at: DateTimeUtc,
    /// Written at most once a minute per token, not on every request.
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The account the token belongs to: the personal-token check reads both at once.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
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
