//! The PostgreSQL advisory lock that lets one instance at a time run the migrator.
//!
//! An advisory lock belongs to the connection that took it, so the lock is taken on a
//! connection of its own, held outside the pool while the migrator uses others. If the
//! process dies, PostgreSQL ends the session and the lock with it: a crashed migrator
//! never blocks the next start.

use anyhow::Context as _;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, PgPool, Postgres};

/// The lock's key: an arbitrary constant, the same in every Latchkey build
/// (`'latchkey'` read as bytes), so no other application's lock collides by chance.
const MIGRATION_LOCK_KEY: i64 = 0x6c61_7463_686b_6579;

pub(super) struct MigrationLock {
    connection: PoolConnection<Postgres>,
}

impl MigrationLock {
    /// Waits until no other process holds the lock, then holds it.
    pub(super) async fn take(pool: &PgPool) -> anyhow::Result<MigrationLock> {
        let mut connection = pool.acquire().await.context("a connection for the lock")?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *connection)
            .await
            .context("pg_advisory_lock")?;
        Ok(MigrationLock { connection })
    }

    /// Lets the next instance in. If unlocking fails the connection is closed instead,
    /// which ends the lock just the same.
    pub(super) async fn release(mut self) {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *self.connection)
            .await;
        if let Err(e) = unlocked {
            tracing::warn!(error = %e, "could not release the migration lock: closing its connection");
            self.connection.close_on_drop();
        }
    }
}
