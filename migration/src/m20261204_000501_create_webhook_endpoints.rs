//! Outbound webhook endpoints, each with its delivery cursor into `auth_events` (see
//! `entity::webhook_endpoint`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .if_not_exists()
                    .col(pk_uuid(WebhookEndpoints::Id))
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(text(WebhookEndpoints::Secret))
                    .col(string_len(WebhookEndpoints::EventKinds, 2048))
                    .col(big_integer(WebhookEndpoints::EventCursor))
                    .col(string_len(WebhookEndpoints::Status, 16))
                    .col(integer(WebhookEndpoints::Attempts))
                    .col(timestamp_with_time_zone(WebhookEndpoints::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::FailingSince,
                    ))
                    .col(uuid_null(WebhookEndpoints::ClaimId))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::ClaimedUntil,
                    ))
                    .col(string_len_null(WebhookEndpoints::LastError, 512))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::LastDeliveredAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Secret,
    EventKinds,
    EventCursor,
    Status,
    Attempts,
    NextAttemptAt,
    FailingSince,
    ClaimId,
    ClaimedUntil,
    LastError,
    LastDeliveredAt,
    CreatedAt,
}
