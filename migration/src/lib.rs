//! Schema migrations for Latchkey. Every migration runs on SQLite and PostgreSQL alike:
//! only portable column types, and no raw SQL.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_sessions;
mod m20261123_000003_create_signing_keys;
mod m20261201_000001_create_auth_headers;
mod m20261201_000002_create_apps;
mod m20261201_000003_create_totp;
mod m20261201_000004_create_login_throttle;
mod m20261202_000003_refresh_successor_seed;
mod m20261203_000001_session_authentication;
mod m20261203_000002_login_attempt_reservation;
mod m20261203_000003_create_known_devices;
mod m20261203_000010_create_mail_outbox;
mod m20261203_000011_create_email_tokens;
mod m20261204_000001_create_auth_events;
mod m20261204_000201_create_passkeys;
mod m20261204_000501_create_webhook_endpoints;
mod m20261204_000701_notify_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_sessions::Migration),
            Box::new(m20261123_000003_create_signing_keys::Migration),
            Box::new(m20261201_000001_create_auth_headers::Migration),
            Box::new(m20261201_000002_create_apps::Migration),
            Box::new(m20261201_000003_create_totp::Migration),
            Box::new(m20261201_000004_create_login_throttle::Migration),
            Box::new(m20261202_000003_refresh_successor_seed::Migration),
            Box::new(m20261203_000001_session_authentication::Migration),
            Box::new(m20261203_000002_login_attempt_reservation::Migration),
            Box::new(m20261203_000003_create_known_devices::Migration),
            Box::new(m20261203_000010_create_mail_outbox::Migration),
            Box::new(m20261203_000011_create_email_tokens::Migration),
            Box::new(m20261204_000001_create_auth_events::Migration),
            Box::new(m20261204_000201_create_passkeys::Migration),
            Box::new(m20261204_000501_create_webhook_endpoints::Migration),
            Box::new(m20261204_000701_notify_changes::Migration),
        ]
    }
}
