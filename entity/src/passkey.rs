//! `passkeys`: an account's WebAuthn credentials. `credential` is webauthn-rs's own
//! serialisation (public key, signature counter, flags), read back only by that library;
//! the columns beside it repeat what a listing shows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    /// The name the owner gave it.
    pub name: String,
    /// base64url of the credential id; unique across all accounts.
    #[sea_orm(unique)]
    pub credential_id: String,
    /// The credential as webauthn-rs serialises it (JSON). A public key, no secret.
    #[sea_orm(column_type = "Text")]
    pub credential: String,
    /// The authenticator model's AAGUID, when it told one (not all zeros).
    pub aaguid: Option<String>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub user_verified: bool,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
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
