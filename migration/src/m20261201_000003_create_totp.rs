//! TOTP (RFC 6238): the enrolled secret per account, its recovery codes, and the
//! `users.totp_enabled_at` flag that lets an account be read without a second query.

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
                    .table(Totp::Table)
                    .if_not_exists()
                    .col(pk_uuid(Totp::UserId))
                    // base32 of 20 bytes is 32 characters; room for longer secrets.
                    .col(string_len(Totp::Secret, 128))
                    .col(timestamp_with_time_zone_null(Totp::EnabledAt))
                    .col(big_integer_null(Totp::LastUsedStep))
                    .col(timestamp_with_time_zone(Totp::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Totp::Table, Totp::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpRecoveryCodes::Table)
                    .if_not_exists()
                    .col(pk_uuid(TotpRecoveryCodes::Id))
                    .col(uuid(TotpRecoveryCodes::UserId))
                    .col(string_len(TotpRecoveryCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone(TotpRecoveryCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(TotpRecoveryCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TotpRecoveryCodes::Table, TotpRecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Finds a presented code (its leading column also serves "this user's codes").
        manager
            .create_index(
                Index::create()
                    .name("uq_totp_recovery_codes_user_id_code_hash")
                    .table(TotpRecoveryCodes::Table)
                    .col(TotpRecoveryCodes::UserId)
                    .col(TotpRecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(UsersTotp::TotpEnabledAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(UsersTotp::TotpEnabledAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TotpRecoveryCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Totp::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Totp {
    Table,
    UserId,
    Secret,
    EnabledAt,
    LastUsedStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TotpRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

/// The column this migration adds to `users`.
#[derive(DeriveIden)]
enum UsersTotp {
    TotpEnabledAt,
}
