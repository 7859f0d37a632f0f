//! The apps, cached in memory: a project API key is checked without a database round
//! trip. Re-read every minute, and at once (at most once a second) when a well-formed key
//! the cache does not know arrives, so `latchkey app add` works without a restart.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::app::{App, AppError};
use super::management::list;
use super::origin::Origin;
use crate::auth::secret::{OpaqueSecret, TokenHash};
use crate::store::apps::Apps;

/// A key (or a preflight's origin) the cache does not know re-reads the apps at most this
/// often, so a stream of made-up keys cannot turn into a stream of database reads.
const UNKNOWN_KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// Every app, indexed by key hash, plus the union of their origins (for CORS).
#[derive(Default)]
struct Snapshot {
    by_hash: HashMap<String, Arc<App>>,
    origins: HashSet<Origin>,
}

impl Snapshot {
    fn of(apps: Vec<App>) -> Snapshot {
        let origins = apps
            .iter()
            .flat_map(|app| app.origins.iter().cloned())
            .collect();
        let by_hash = apps
            .into_iter()
            .map(|app| (app.key_hash.as_str().to_owned(), Arc::new(app)))
            .collect();
        Snapshot { by_hash, origins }
    }

    /// Found by hash, then confirmed in constant time.
    fn find(&self, hash: &TokenHash) -> Option<Arc<App>> {
        self.by_hash
            .get(hash.as_str())
            .filter(|app| app.key_hash.matches(hash))
            .cloned()
    }
}

/// Every app, in memory. Lookups never touch the database, except that a well-formed key
/// the cache does not know triggers a re-read (at most once a second), so an app added a
/// moment ago by `latchkey app add` works at once.
pub struct AppRegistry {
    apps: Apps,
    snapshot: RwLock<Arc<Snapshot>>,
    /// When the last re-read started. The lock also serialises re-reads, so an older read
    /// can never replace a newer one, and makes concurrent unknown keys share one re-read.
    last_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl AppRegistry {
    /// How often a running server re-reads the apps, so `app delete` takes effect and
    /// origin changes reach CORS without a restart.
    pub const RELOAD_INTERVAL: Duration = Duration::from_secs(60);

    /// Reads every app.
    pub async fn load(apps: Apps) -> Result<AppRegistry, AppError> {
        let registry = AppRegistry {
            apps,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            last_reload: tokio::sync::Mutex::new(None),
        };
        registry.reload().await?;
        Ok(registry)
    }

    /// Re-reads every app. If the database cannot be read, the apps known before stay.
    pub async fn reload(&self) -> Result<(), AppError> {
        let mut last = self.last_reload.lock().await;
        self.reload_now(&mut last).await
    }

    async fn reload_now(&self, last: &mut Option<Instant>) -> Result<(), AppError> {
        *last = Some(Instant::now());
        let snapshot = Snapshot::of(list(&self.apps).await?);
        let mut current = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(snapshot);
        Ok(())
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The app this key belongs to. A key the cache does not know waits for a re-read
    /// (see [`AppRegistry::reread_after_miss`]), so an app added a moment ago is found.
    pub async fn resolve(&self, key: &OpaqueSecret) -> Option<Arc<App>> {
        let hash = key.hash();
        if let Some(app) = self.current().find(&hash) {
            return Some(app);
        }
        self.reread_after_miss(Instant::now()).await;
        self.current().find(&hash)
    }

    /// Whether some app allows this origin, as of the last re-read (for CORS, which must
    /// answer without waiting).
    pub fn allows_origin(&self, origin: &Origin) -> bool {
        self.current().origins.contains(origin)
    }

    /// Like [`AppRegistry::allows_origin`], but an origin no app is known to allow waits for
    /// a re-read first, so a preflight from an app added a moment ago is answered.
    pub async fn allows_origin_now(&self, origin: &Origin) -> bool {
        if self.allows_origin(origin) {
            return true;
        }
        self.reread_after_miss(Instant::now()).await;
        self.allows_origin(origin)
    }

    /// Makes sure a re-read has started since `missed_at`: one already started by a
    /// concurrent miss serves, else this one starts it, at once or when a second has
    /// passed since the last, whichever is later. So any app added before the miss is
    /// known afterwards, and made-up keys or origins cost at most one read a second.
    async fn reread_after_miss(&self, missed_at: Instant) {
        let mut last = self.last_reload.lock().await;
        if last.is_some_and(|started| started >= missed_at) {
            return;
        }
        if let Some(started) = *last {
            let next = started + UNKNOWN_KEY_RELOAD_INTERVAL;
            tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
        }
        if let Err(e) = self.reload_now(&mut last).await {
            tracing::warn!(error = %format!("{e:#}"), "could not re-read the apps");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::apps::app::{KEY_PREFIX, test_app as app};

    #[test]
    fn the_snapshot_finds_a_key_by_its_hash_and_knows_every_origin() {
        let key = OpaqueSecret::generate(KEY_PREFIX);
        let mut known = app(&["https://a.example.com"], false);
        known.key_hash = key.hash();
        let other = app(&["https://b.example.com"], false);
        let snapshot = Snapshot::of(vec![known, other]);
        assert_eq!(snapshot.find(&key.hash()).unwrap().name, "web");
        assert!(
            snapshot
                .find(&OpaqueSecret::generate(KEY_PREFIX).hash())
                .is_none()
        );
        assert!(
            snapshot
                .origins
                .contains(&Origin::parse("https://b.example.com").unwrap())
        );
        assert!(
            !snapshot
                .origins
                .contains(&Origin::parse("https://c.example.com").unwrap())
        );
    }
}
