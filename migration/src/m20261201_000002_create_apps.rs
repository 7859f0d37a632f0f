use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Apps::Table)
                    .if_not_exists()
                    .col(pk_uuid(Apps::Id))
                    .col(string_len_uniq(Apps::Name, 64))
                    .col(string_len_uniq(Apps::KeyHash, 64))
                    .col(string_len(Apps::KeyPrefix, 16))
                    // Origins one a line: text is portable where arrays and JSON types are not.
                    .col(text(Apps::Origins))
                    .col(boolean(Apps::RequireOrigin))
                    .col(timestamp_with_time_zone(Apps::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Apps::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    Id,
    Name,
    KeyHash,
    KeyPrefix,
    Origins,
    RequireOrigin,
    CreatedAt,
}
