//! The mail outbox: mails written in the transaction that calls for them, delivered by a
//! background worker (see `entity::mail_outbox`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .if_not_exists()
                    .col(pk_uuid(MailOutbox::Id))
                    .col(string_len(MailOutbox::Kind, 32))
                    .col(uuid_null(MailOutbox::UserId))
                    .col(string_len(MailOutbox::Recipient, 320))
                    .col(string_len_null(MailOutbox::ClientIp, 64))
                    .col(string_len(MailOutbox::Status, 16))
                    .col(string_null(MailOutbox::Subject))
                    .col(text_null(MailOutbox::BodyText))
                    .col(text_null(MailOutbox::BodyHtml))
                    .col(integer(MailOutbox::Attempts))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::ClaimedUntil))
                    .col(uuid_null(MailOutbox::ClaimId))
                    .col(string_null(MailOutbox::LastError))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .to_owned(),
            )
            .await?;
        // The worker's question: what is due now?
        manager
            .create_index(
                Index::create()
                    .name("ix_mail_outbox_status_next_attempt_at")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::Status)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // The limits' questions: how many mails to this address, from this client, lately?
        manager
            .create_index(
                Index::create()
                    .name("ix_mail_outbox_recipient_created_at")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::Recipient)
                    .col(MailOutbox::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mail_outbox_client_ip_created_at")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::ClientIp)
                    .col(MailOutbox::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Kind,
    UserId,
    Recipient,
    ClientIp,
    Status,
    Subject,
    BodyText,
    BodyHtml,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    ClaimId,
    LastError,
    CreatedAt,
    SentAt,
}
