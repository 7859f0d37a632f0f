use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk_uuid(Users::Id))
                    .col(string_len(Users::Username, 64))
                    .col(string_len_uniq(Users::UsernameKey, 64))
                    .col(string_len_null(Users::Email, 320).unique_key())
                    .col(string_len_null(Users::Firstname, 200))
                    .col(string_len_null(Users::Lastname, 200))
                    .col(string_len(Users::Role, 16))
                    .col(string(Users::PasswordHash))
                    .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    Email,
    Firstname,
    Lastname,
    Role,
    PasswordHash,
    PasswordChangedAt,
    CreatedAt,
}
