use sea_orm_migration::{prelude::*, schema::*};

/// A session records when and how it last fully authenticated (password, plus OTP where
/// on): `login` sets both, `reauthenticate` moves them, a refresh never does. Operations
/// that create or remove a long-lived credential or a factor ask for a recent one.
///
/// Both columns are nullable: SQLite cannot add a `NOT NULL` column without a constant
/// default, and an instance still running the previous version (a rolling upgrade on
/// PostgreSQL) opens sessions without them. Existing rows get their login time; the
/// method of a login made before it was recorded stays unknown (null). Readers take a
/// missing time as the session's `created_at`, which for such a row is its login.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One alteration per statement: SQLite takes no more.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(timestamp_with_time_zone_null(Sessions::AuthenticatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_len_null(Sessions::AuthenticationMethod, 32))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Sessions::Table)
                    .value(Sessions::AuthenticatedAt, Expr::col(Sessions::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::AuthenticationMethod)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::AuthenticatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    CreatedAt,
    AuthenticatedAt,
    AuthenticationMethod,
}
