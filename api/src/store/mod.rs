//! The only code that talks to the database. Each table's queries sit in its own file
//! and take the owner where there is one, so an unscoped query is hard to write.

pub mod apps;
pub mod auth_headers;
mod error;
pub mod keys;
pub mod sessions;
pub mod throttle;
pub mod totp;
mod unique;
pub mod users;

use std::time::Duration;

use anyhow::Context as _;
use latchkey_migration::{Migrator, MigratorTrait as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

pub use error::StoreError;

/// Connections in a SQLite pool: enough for every core to read at once, with some slack.
const SQLITE_CONNECTIONS: u32 = 8;

/// Handles to each table's queries, sharing one connection pool.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    pub users: users::Users,
    pub sessions: sessions::Sessions,
    pub keys: keys::Keys,
    pub auth_headers: auth_headers::AuthHeaders,
    pub apps: apps::Apps,
    pub login_throttle: throttle::LoginThrottle,
    pub totp: totp::Totp,
}

impl Store {
    /// Connects to SQLite (WAL, a busy timeout, foreign keys on) or PostgreSQL.
    pub async fn connect(database_url: &str) -> anyhow::Result<Store> {
        let mut options = ConnectOptions::new(database_url);
        if database_url.starts_with("sqlite:") {
            // SeaORM gives SQLite one connection unless told otherwise, which serialises
            // every query of every request. In WAL mode readers run in parallel and
            // writers queue on the busy timeout; every transaction here starts with its
            // write, so none has to upgrade a read lock (which SQLite would refuse).
            options.max_connections(SQLITE_CONNECTIONS);
        }
        options
            .sqlx_logging(false) // statements carry hashes as parameters: keep them out of logs
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let db = Database::connect(options).await.with_context(|| {
            format!("connecting to the database at {}", redact_url(database_url))
        })?;
        Ok(Store::from_connection(db))
    }

    fn from_connection(db: DatabaseConnection) -> Store {
        Store {
            users: users::Users::new(db.clone()),
            sessions: sessions::Sessions::new(db.clone()),
            keys: keys::Keys::new(db.clone()),
            auth_headers: auth_headers::AuthHeaders::new(db.clone()),
            apps: apps::Apps::new(db.clone()),
            login_throttle: throttle::LoginThrottle::new(db.clone()),
            totp: totp::Totp::new(db.clone()),
            db,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.db, None)
            .await
            .context("running migrations")
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }
}

/// A database URL with any password replaced, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("sqlite://latchkey.db?mode=rwc"),
            "sqlite://latchkey.db?mode=rwc"
        );
    }
}
