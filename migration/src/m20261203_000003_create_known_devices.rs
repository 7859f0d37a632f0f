use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_users::Users;

/// Browsers an account has logged in from (OWASP "device cookies"): only the SHA-256 of
/// each device cookie is kept. A device's failed logins are counted in `login_throttle`
/// under the device's id, apart from its account's.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownDevices::Table)
                    .if_not_exists()
                    .col(pk_uuid(KnownDevices::Id))
                    .col(uuid(KnownDevices::AccountId))
                    .col(string_len_uniq(KnownDevices::TokenHash, 64))
                    .col(timestamp_with_time_zone(KnownDevices::CreatedAt))
                    .col(timestamp_with_time_zone(KnownDevices::LastUsedAt))
                    .col(timestamp_with_time_zone(KnownDevices::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KnownDevices::Table, KnownDevices::AccountId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An account's devices, newest first, when the oldest beyond the bound are dropped.
        manager
            .create_index(
                Index::create()
                    .name("idx_known_devices_account_id_last_used_at")
                    .table(KnownDevices::Table)
                    .col(KnownDevices::AccountId)
                    .col(KnownDevices::LastUsedAt)
                    .to_owned(),
            )
            .await?;
        // Expired devices are swept by age.
        manager
            .create_index(
                Index::create()
                    .name("idx_known_devices_expires_at")
                    .table(KnownDevices::Table)
                    .col(KnownDevices::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KnownDevices::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum KnownDevices {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
}
