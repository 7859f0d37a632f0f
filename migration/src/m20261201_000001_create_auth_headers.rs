use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthHeaders::Table)
                    .if_not_exists()
                    .col(pk_uuid(AuthHeaders::Id))
                    .col(uuid(AuthHeaders::UserId))
                    .col(string_len(AuthHeaders::Name, 100))
                    .col(string_len_uniq(AuthHeaders::TokenHash, 64))
                    .col(string_len(AuthHeaders::Prefix, 16))
                    .col(timestamp_with_time_zone(AuthHeaders::CreatedAt))
                    .col(timestamp_with_time_zone_null(AuthHeaders::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AuthHeaders::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuthHeaders::Table, AuthHeaders::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Also serves "this user's headers" lookups (its leading column is user_id).
        manager
            .create_index(
                Index::create()
                    .name("uq_auth_headers_user_id_name")
                    .table(AuthHeaders::Table)
                    .col(AuthHeaders::UserId)
                    .col(AuthHeaders::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthHeaders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuthHeaders {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    Prefix,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
}
