use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// On PostgreSQL, triggers that announce changes on the `latchkey_changes` channel
/// (`NOTIFY`, delivered at commit, only if the transaction commits), so every instance
/// hears them (issue 18): each event written to `auth_events` (id, kind, account), and
/// each change to an account's shown fields or its deletion (the account), by whichever
/// process or tool wrote it. `from` is the writing connection's `application_name`, so a
/// process can tell its own changes. No secret and no client data in a payload. Nothing
/// on SQLite: one process, which knows its own changes.
#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE OR REPLACE FUNCTION latchkey_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('latchkey_changes', json_build_object(
    'event', NEW.id, 'kind', NEW.kind, 'user', NEW.user_id,
    'from', current_setting('application_name', true))::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER auth_events_notify AFTER INSERT ON auth_events
  FOR EACH ROW EXECUTE FUNCTION latchkey_notify_event();

CREATE OR REPLACE FUNCTION latchkey_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('latchkey_changes', json_build_object(
    'user', OLD.id, 'from', current_setting('application_name', true))::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER users_notify_change AFTER UPDATE ON users FOR EACH ROW
  WHEN ((OLD.username, OLD.email, OLD.firstname, OLD.lastname, OLD.role,
         OLD.password_changed_at, OLD.totp_enabled_at, OLD.email_verified_at)
        IS DISTINCT FROM
        (NEW.username, NEW.email, NEW.firstname, NEW.lastname, NEW.role,
         NEW.password_changed_at, NEW.totp_enabled_at, NEW.email_verified_at))
  EXECUTE FUNCTION latchkey_notify_account();
CREATE TRIGGER users_notify_delete AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION latchkey_notify_account();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS users_notify_delete ON users;
DROP TRIGGER IF EXISTS users_notify_change ON users;
DROP FUNCTION IF EXISTS latchkey_notify_account();
DROP TRIGGER IF EXISTS auth_events_notify ON auth_events;
DROP FUNCTION IF EXISTS latchkey_notify_event();
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
