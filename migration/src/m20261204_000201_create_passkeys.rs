use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_users::Users;

/// Passkeys (WebAuthn credentials) and the single-use challenges of their ceremonies.
///
/// `passkeys.credential` is webauthn-rs's own serialisation of the credential (public key,
/// counter, flags): the library reads it back, nothing here parses it. The columns beside
/// it repeat what listing needs, so a list never opens the JSON.
///
/// A challenge row is keyed by the SHA-256 of the challenge the browser signs, so a finish
/// finds its row from the response alone, and is consumed by one conditional DELETE.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .if_not_exists()
                    .col(pk_uuid(Passkeys::Id))
                    .col(uuid(Passkeys::AccountId))
                    .col(string_len(Passkeys::Name, 64))
                    // base64url of the credential id; unique across accounts, so one
                    // authenticator's credential can never belong to two accounts.
                    .col(string_len_uniq(Passkeys::CredentialId, 1400))
                    .col(text(Passkeys::Credential))
                    .col(string_len_null(Passkeys::Aaguid, 36))
                    .col(boolean(Passkeys::BackupEligible))
                    .col(boolean(Passkeys::BackupState))
                    .col(boolean(Passkeys::UserVerified))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Passkeys::Table, Passkeys::AccountId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_account_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnChallenges::Table)
                    .if_not_exists()
                    .col(string_len(WebauthnChallenges::ChallengeHash, 64).primary_key())
                    .col(string_len(WebauthnChallenges::Ceremony, 32))
                    .col(uuid_null(WebauthnChallenges::AccountId))
                    .col(text(WebauthnChallenges::State))
                    .col(text_null(WebauthnChallenges::Payload))
                    .col(timestamp_with_time_zone(WebauthnChallenges::CreatedAt))
                    .col(timestamp_with_time_zone(WebauthnChallenges::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebauthnChallenges::Table, WebauthnChallenges::AccountId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Expired challenges are swept by age.
        manager
            .create_index(
                Index::create()
                    .name("idx_webauthn_challenges_expires_at")
                    .table(WebauthnChallenges::Table)
                    .col(WebauthnChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebauthnChallenges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    AccountId,
    Name,
    CredentialId,
    Credential,
    Aaguid,
    BackupEligible,
    BackupState,
    UserVerified,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebauthnChallenges {
    Table,
    ChallengeHash,
    Ceremony,
    AccountId,
    State,
    Payload,
    CreatedAt,
    ExpiresAt,
}
