use sea_orm_migration::{prelude::*, schema::*};

/// The audit log (issue 18): one append-only row per security event, written in the same
/// transaction as the change it records. `id` orders the log: readers that catch up
/// (webhooks, other instances) remember the last id they saw. No foreign key to `users`:
/// an account's history outlives the account (an operator investigating a deleted account
/// still sees it), and retention, not cascades, bounds the table.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthEvents::Table)
                    .if_not_exists()
                    // `integer primary key autoincrement` on SQLite (the rowid, which is
                    // 64-bit), `bigserial` on PostgreSQL.
                    .col(big_pk_auto(AuthEvents::Id))
                    .col(timestamp_with_time_zone(AuthEvents::OccurredAt))
                    .col(string_len(AuthEvents::Kind, 64))
                    .col(uuid_null(AuthEvents::UserId))
                    .col(uuid_null(AuthEvents::SessionId))
                    .col(string_len_null(AuthEvents::ClientAddress, 64))
                    .col(string_len_null(AuthEvents::UserAgent, 512))
                    .col(text(AuthEvents::Detail))
                    .to_owned(),
            )
            .await?;
        // One account's events, newest first, paged by id.
        manager
            .create_index(
                Index::create()
                    .name("idx_auth_events_user_id_id")
                    .table(AuthEvents::Table)
                    .col(AuthEvents::UserId)
                    .col(AuthEvents::Id)
                    .to_owned(),
            )
            .await?;
        // Retention deletes by age; admins filter by time.
        manager
            .create_index(
                Index::create()
                    .name("idx_auth_events_occurred_at")
                    .table(AuthEvents::Table)
                    .col(AuthEvents::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuthEvents {
    Table,
    Id,
    OccurredAt,
    Kind,
    UserId,
    SessionId,
    ClientAddress,
    UserAgent,
    Detail,
}
