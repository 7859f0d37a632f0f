//! What the connection pool is doing, for `/metrics`.
//!
//! SeaORM takes a connection from the pool inside every query, where no timer can reach,
//! so the wait a request sees is not measured per query. A scrape instead takes one
//! connection itself and reports how long that took: a sample of the wait at that moment.

use std::time::{Duration, Instant};

use sea_orm::DbBackend;

use super::Store;

/// The pool at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolStats {
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

impl Store {
    /// Open, idle and the most connections of the pool.
    pub fn pool_stats(&self) -> PoolStats {
        let pool = &self.db.pool;
        let stats = |open: u32, idle: usize, max: u32| PoolStats {
            open,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        };
        match pool.get_database_backend() {
            DbBackend::Postgres => {
                let p = pool.get_postgres_connection_pool();
                stats(p.size(), p.num_idle(), p.options().get_max_connections())
            }
            DbBackend::Sqlite => {
                let p = pool.get_sqlite_connection_pool();
                stats(p.size(), p.num_idle(), p.options().get_max_connections())
            }
            _ => PoolStats::default(),
        }
    }

    /// How long it takes to be handed a pooled connection now; `None` when none came
    /// (the database is down, or the pool stayed exhausted for its acquire timeout).
    pub async fn sample_acquire(&self) -> Option<Duration> {
        let pool = &self.db.pool;
        let started = Instant::now();
        let acquired = match pool.get_database_backend() {
            DbBackend::Postgres => pool.get_postgres_connection_pool().acquire().await.is_ok(),
            DbBackend::Sqlite => pool.get_sqlite_connection_pool().acquire().await.is_ok(),
            _ => false,
        };
        acquired.then(|| started.elapsed())
    }
}
