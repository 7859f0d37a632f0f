//! `sessions`: one row per login, the chain of refresh tokens that login grows.
//!
//! An access token names its session in `sid`; a session that is revoked or past
//! `expires_at` makes every access and refresh token of it worthless at once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The token mode the session was opened with (`json`, `cookie`, `session`):
    /// `refresh` without a mode answers in it.
    pub mode: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    /// Fixed at login: `created_at + session_ttl`. Refreshing never extends it.
    pub expires_at: DateTimeUtc,
    /// The last full authentication (password, plus OTP where on): the login, or a later
    /// `reauthenticate`; a refresh never moves it. Null only for a session opened by a
    /// version that did not record it, whose login is then `created_at`.
    pub authenticated_at: Option<DateTimeUtc>,
    /// How it last authenticated (`password`, `password+otp`); null when not recorded.
    pub authentication_method: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Why it ended (`logout`, `refresh_token_reused`, ...), for operators.
    pub revoked_reason: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The account the session belongs to: the access-token check reads both at once.
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
