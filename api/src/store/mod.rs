//! The only code that talks to the database. Each table's queries sit in its own file
//! and take the owner where there is one, so an unscoped query is hard to write.

pub mod apps;
pub mod auth_events;
pub mod auth_headers;
pub mod change_feed;
pub mod email_tokens;
mod error;
pub mod keys;
pub mod known_devices;
mod migration_lock;
pub mod outbox;
pub mod passkeys;
pub mod pool_stats;
pub mod private_file;
pub mod sealing;
pub mod sessions;
pub mod throttle;
pub mod totp;
mod unique;
pub mod users;
pub mod webauthn_challenges;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use latchkey_migration::{Migrator, MigratorTrait as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};

use crate::config::Settings;
use secrecy::ExposeSecret as _;

use self::sealing::Sealer;
use self::sealing::at_rest::Resealed;
use self::sealing::key::SealingKey;

pub use error::{StoreError, is_unavailable};

/// How long a query waits for a connection when no setting says (the CLI's tests).
const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections in a SQLite pool: enough for every core to read at once, with some slack.
const SQLITE_CONNECTIONS: u32 = 8;

/// The connection pool, and on SQLite this process's turn to write.
///
/// SQLite lets one connection write at a time. A writer that finds the lock taken sleeps
/// in SQLite's busy handler, in growing steps, so under load writes would wait for sleeps
/// rather than for each other. Here a writer first takes its turn in-process, in order,
/// and starts the moment the one before it commits. The busy timeout stays for writers
/// in other processes (the CLI). The turn is a lock on the one pool rather than a
/// separate pool for writes, which queues writers just the same but costs throughput.
/// Figures, and the alternative tried: bench/README.md.
#[derive(Clone)]
pub(crate) struct Db {
    pool: DatabaseConnection,
    /// `None` on PostgreSQL, whose writers lock rows, not the database.
    write_turn: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// The connection to write with, holding this process's turn until dropped: keep it
/// until the write (or its transaction) is committed.
pub(crate) struct Writer<'a> {
    pool: &'a DatabaseConnection,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl std::ops::Deref for Writer<'_> {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        self.pool
    }
}

impl Db {
    /// For statements that only read.
    fn reader(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// For anything that writes; waits for this process's turn on SQLite. A method
    /// holding a `Writer` must not ask for another (the turn is not re-entrant).
    async fn writer(&self) -> Writer<'_> {
        let turn = match &self.write_turn {
            Some(turn) => Some(turn.lock().await),
            None => None,
        };
        Writer {
            pool: &self.pool,
            _turn: turn,
        }
    }
}

/// Handles to each table's queries, sharing the connection pools.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// The `application_name` of this process's PostgreSQL connections (`change_feed`).
    instance_tag: Arc<str>,
    /// The key secrets are sealed with at rest, if one is configured.
    sealer: Sealer,
    pub users: users::Users,
    pub sessions: sessions::Sessions,
    pub keys: keys::Keys,
    pub auth_headers: auth_headers::AuthHeaders,
    pub apps: apps::Apps,
    pub login_throttle: throttle::LoginThrottle,
    pub known_devices: known_devices::KnownDevices,
    pub totp: totp::Totp,
    pub outbox: outbox::Outbox,
    pub email_tokens: email_tokens::EmailTokens,
    pub passkeys: passkeys::Passkeys,
    pub webauthn_challenges: webauthn_challenges::WebauthnChallenges,
    pub auth_events: auth_events::AuthEvents,
    pub webhooks: webhooks::Webhooks,
}

impl Store {
    /// Connects to SQLite (WAL, a busy timeout, foreign keys on) or PostgreSQL, with no
    /// sealing key.
    pub async fn connect(database_url: &str) -> anyhow::Result<Store> {
        Store::connect_with(database_url, Sealer::none()).await
    }

    /// Connects, sealing and opening secrets with `sealer`.
    pub async fn connect_with(database_url: &str, sealer: Sealer) -> anyhow::Result<Store> {
        Store::connect_timed(database_url, sealer, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// Connects; a query waits at most `acquire_timeout` for a connection (opening one
    /// included) before it fails as unavailable.
    async fn connect_timed(
        database_url: &str,
        sealer: Sealer,
        acquire_timeout: Duration,
    ) -> anyhow::Result<Store> {
        let sqlite = database_url.starts_with("sqlite:");
        if sqlite {
            private_file::prepare_sqlite(database_url)?;
        }
        let instance_tag: Arc<str> = format!("latchkey-{}", uuid::Uuid::new_v4().simple()).into();
        let mut options = ConnectOptions::new(database_url);
        if sqlite {
            // SeaORM gives SQLite one connection unless told otherwise, which serialises
            // every query of every request. In WAL mode readers run in parallel; writers
            // take turns (`Db`), and every transaction here starts with its write, so
            // none has to upgrade a read lock (which SQLite would refuse).
            options.max_connections(SQLITE_CONNECTIONS);
        }
        options
            .sqlx_logging(false) // statements carry hashes as parameters: keep them out of logs
            .connect_timeout(acquire_timeout)
            .acquire_timeout(acquire_timeout)
            // By default the pool pings a connection every time it is handed out: a second
            // round trip for every query (on SQLite a second wake of the connection's
            // thread). Only a connection idle long enough for a proxy or firewall to have
            // dropped it is worth checking.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            })
            // Names this process to PostgreSQL: the change notifications say which
            // connection wrote, so each process knows its own changes.
            .map_sqlx_postgres_opts({
                let tag = instance_tag.clone();
                move |o| o.application_name(&tag)
            });
        let pool = Database::connect(options).await.with_context(|| {
            format!("connecting to the database at {}", redact_url(database_url))
        })?;
        Ok(Store::from_connection(
            Db {
                pool,
                write_turn: sqlite.then(Arc::default),
            },
            sealer,
            instance_tag,
        ))
    }

    fn from_connection(db: Db, sealer: Sealer, instance_tag: Arc<str>) -> Store {
        Store {
            instance_tag,
            users: users::Users::new(db.clone()),
            sessions: sessions::Sessions::new(db.clone()),
            keys: keys::Keys::new(db.clone(), sealer.clone()),
            auth_headers: auth_headers::AuthHeaders::new(db.clone()),
            apps: apps::Apps::new(db.clone()),
            login_throttle: throttle::LoginThrottle::new(db.clone()),
            known_devices: known_devices::KnownDevices::new(db.clone()),
            totp: totp::Totp::new(db.clone(), sealer.clone()),
            outbox: outbox::Outbox::new(db.clone()),
            email_tokens: email_tokens::EmailTokens::new(db.clone()),
            passkeys: passkeys::Passkeys::new(db.clone()),
            webauthn_challenges: webauthn_challenges::WebauthnChallenges::new(db.clone()),
            auth_events: auth_events::AuthEvents::new(db.clone()),
            webhooks: webhooks::Webhooks::new(db.clone(), sealer.clone()),
            db,
            sealer,
        }
    }

    /// The store the settings name, with the `secret_key_file` key if one is set, migrated
    /// first unless `auto_migrate` is off: how the server and every CLI command open the
    /// database.
    pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
        let sealer = match &settings.secret_key_file {
            Some(path) => Sealer::with_key(SealingKey::from_file(path, "secret_key_file")?),
            None => Sealer::none(),
        };
        let store = Store::connect_timed(
            settings.database_url.expose_secret(),
            sealer,
            settings.database_acquire_timeout,
        )
        .await?;
        if settings.auto_migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations. On PostgreSQL under an advisory lock, so instances
    /// started together on an empty database migrate once: the others wait for the lock,
    /// then find nothing pending. SQLite needs no such lock: its writers already take
    /// turns on the file's lock, and the migrator runs as one write transaction.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let writer = self.db.writer().await;
        if writer.get_database_backend() != DbBackend::Postgres {
            return Migrator::up(&*writer, None)
                .await
                .context("running migrations");
        }
        let lock = migration_lock::MigrationLock::take(writer.get_postgres_connection_pool())
            .await
            .context("taking the migration lock")?;
        let migrated = Migrator::up(&*writer, None)
            .await
            .context("running migrations");
        lock.release().await;
        migrated
    }

    /// At start: refuses a database holding secrets sealed by another key (or sealed while
    /// no key is configured), then, with a key, seals the secrets stored in the clear.
    /// Returns how many it sealed.
    pub async fn seal_at_rest(&self) -> anyhow::Result<u64> {
        sealing::at_rest::seal_existing(&self.db, &self.sealer).await
    }

    /// Re-seals every secret with `new` in one transaction (`latchkey keys seal-rotate`).
    pub async fn reseal(&self, new: SealingKey) -> anyhow::Result<Resealed> {
        sealing::at_rest::reseal(&self.db, &self.sealer, new).await
    }

    /// Whether this is PostgreSQL, where other processes' changes can be heard
    /// (`crate::notify`).
    pub fn is_postgres(&self) -> bool {
        self.db.reader().get_database_backend() == DbBackend::Postgres
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        self.db.reader().ping().await.is_ok()
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
    #![allow(clippy::unwrap_used)]
    use super::{Store, redact_url};

    #[tokio::test]
    async fn on_sqlite_a_writer_holds_the_write_turn_until_dropped() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let turn = store.db.write_turn.clone().unwrap();
        let writer = store.db.writer().await;
        assert!(turn.try_lock().is_err(), "a second writer could start");
        drop(writer);
        assert!(turn.try_lock().is_ok());
        assert!(
            store.db.reader().ping().await.is_ok(),
            "reads never wait for a turn"
        );
    }

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
