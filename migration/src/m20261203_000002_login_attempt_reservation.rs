use sea_orm_migration::{prelude::*, schema::*};

/// Login attempts are reserved before their password is hashed: `in_flight` counts the
/// attempts under way for the key, and `reserved_until` is when the last reservation
/// lapses on its own (an instance that died mid-attempt never releases it). SQLite alters
/// one column per statement, hence two.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LoginThrottle::Table)
                    .add_column(integer(LoginThrottle::InFlight).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LoginThrottle::Table)
                    .add_column(timestamp_with_time_zone_null(LoginThrottle::ReservedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [LoginThrottle::ReservedUntil, LoginThrottle::InFlight] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LoginThrottle::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    InFlight,
    ReservedUntil,
}
