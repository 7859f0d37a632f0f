//! Hearing other instances' changes (issue 18): on PostgreSQL, one connection per process
//! listens on the channel the database's triggers notify (`store::change_feed`).
//!
//! For each notice, what this process remembers of the account concerned is forgotten
//! (`auth::credential_cache`), and an event written by another process is read and
//! published on this process's [`EventBus`], so its subscribers hear every instance's
//! events. The process's own events are already published by `Authenticator::publish`
//! and are not read again.
//!
//! While the connection is down nothing is heard, so the credential cache is not used
//! (every request reads the database). When it is back, listening starts first; then
//! everything remembered is forgotten, and the events written meanwhile are read from the
//! table by id, from a little before the last id seen (a transaction may commit after
//! one that took a later id), and published; the bus lets each id through once. Connect
//! attempts back off from a quarter of a second to five seconds.
//!
//! SQLite has nothing to hear: one process writes it, and announces its own events.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::authenticator::{Authenticator, forget_credentials};
use crate::auth::credential_cache::CredentialCache;
use crate::auth::events::{AuthEventKind, EventBus};
use crate::store::Store;
use crate::store::change_feed::{ChangeListener, Notice};

/// The first wait before connecting again, doubled up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// How far below the last id seen catching up starts: transactions in flight together
/// may commit in another order than their events' ids.
const LOOKBACK: i64 = 256;
/// Events read per query when catching up.
const CATCH_UP_BATCH: u64 = 500;

/// Watches and steers the listening task.
#[derive(Clone)]
pub struct ChangeFeed {
    listening: watch::Receiver<bool>,
    suspended: Arc<watch::Sender<bool>>,
}

impl ChangeFeed {
    /// Whether changes made elsewhere are being heard now.
    pub fn is_listening(&self) -> bool {
        *self.listening.borrow()
    }

    /// Waits until the feed listens (or its task ended).
    pub async fn until_listening(&self) {
        let mut listening = self.listening.clone();
        let _ = listening.wait_for(|on| *on).await;
    }

    /// Waits until the feed does not listen (or its task ended).
    pub async fn until_deaf(&self) {
        let mut listening = self.listening.clone();
        let _ = listening.wait_for(|on| !*on).await;
    }

    /// Drops the listening connection and keeps it down until [`resume`](Self::resume):
    /// the same as an outage of that connection, for drills and tests.
    pub fn suspend(&self) {
        self.suspended.send_replace(true);
    }

    pub fn resume(&self) {
        self.suspended.send_replace(false);
    }
}

/// Starts listening in the background, on PostgreSQL; `None` on SQLite. The task ends
/// when `stopping` turns true.
pub fn spawn(
    store: Store,
    auth: &Authenticator,
    stopping: watch::Receiver<bool>,
) -> Option<ChangeFeed> {
    if !store.is_postgres() {
        return None;
    }
    let (listening_tx, listening) = watch::channel(false);
    let (suspended, suspended_rx) = watch::channel(false);
    let relay = Relay {
        store,
        cache: auth.credential_cache(),
        bus: auth.event_bus(),
        listening: listening_tx,
        suspended: suspended_rx,
        stopping,
        floor: None,
        last_id: 0,
    };
    tokio::spawn(relay.run());
    Some(ChangeFeed {
        listening,
        suspended: Arc::new(suspended),
    })
}

struct Relay {
    store: Store,
    cache: Arc<CredentialCache>,
    bus: Arc<EventBus>,
    listening: watch::Sender<bool>,
    suspended: watch::Receiver<bool>,
    stopping: watch::Receiver<bool>,
    /// The newest id when listening first began: nothing older is ever published.
    floor: Option<i64>,
    /// The newest id seen.
    last_id: i64,
}

/// Why listening ended.
enum Ended {
    Lost,
    Suspended,
    Stopping,
}

impl Relay {
    async fn run(mut self) {
        let mut retry = RETRY_MIN;
        loop {
            if *self.stopping.borrow() {
                return;
            }
            if *self.suspended.borrow() {
                tokio::select! {
                    _ = self.suspended.wait_for(|s| !*s) => continue,
                    _ = self.stopping.wait_for(|s| *s) => return,
                }
            }
            let ended = match self.store.listen_for_changes().await {
                Ok(listener) => {
                    retry = RETRY_MIN;
                    let ended = self.hear(listener).await;
                    self.cache.set_heard(false);
                    self.listening.send_replace(false);
                    ended
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other instances' changes: the session cache is bypassed");
                    Ended::Lost
                }
            };
            match ended {
                Ended::Stopping => return,
                Ended::Suspended => continue,
                Ended::Lost => {
                    tokio::select! {
                        () = tokio::time::sleep(retry) => {}
                        _ = self.stopping.wait_for(|s| *s) => return,
                    }
                    retry = (retry * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// Catches up, then hears notices until the connection ends.
    async fn hear(&mut self, mut listener: ChangeListener) -> Ended {
        // Listening already: whatever commits from now on is heard. What was remembered
        // before may have missed a change: forget it, then use the cache again.
        self.cache.set_heard(true);
        if let Err(e) = self.catch_up().await {
            tracing::warn!(error = %e, "cannot catch up with other instances' events");
            return Ended::Lost;
        }
        self.listening.send_replace(true);
        tracing::info!("listening for other instances' changes");
        loop {
            let notice = tokio::select! {
                notice = listener.next() => notice,
                _ = self.suspended.wait_for(|s| *s) => return Ended::Suspended,
                _ = self.stopping.wait_for(|s| *s) => return Ended::Stopping,
            };
            let Ok(first) = notice else {
                tracing::warn!(
                    "lost the connection listening for other instances' changes: the session cache is bypassed until it is back"
                );
                return Ended::Lost;
            };
            let mut batch = vec![first];
            while let Some(more) = listener.next_buffered() {
                batch.push(more);
            }
            if let Err(e) = self.apply(batch).await {
                tracing::warn!(error = %e, "cannot read other instances' events");
                return Ended::Lost;
            }
        }
    }

    /// Forgets what the notices changed, and publishes the other processes' events.
    async fn apply(&mut self, batch: Vec<Notice>) -> anyhow::Result<()> {
        let mut remote = Vec::new();
        for notice in batch {
            let changes = notice
                .kind
                .as_deref()
                .and_then(AuthEventKind::parse)
                .is_none_or(AuthEventKind::changes_credentials);
            if changes {
                match notice.user {
                    Some(user) => self.cache.forget_user(user),
                    None => self.cache.forget_all(),
                }
            }
            if let Some(id) = notice.event {
                if notice.from.as_deref() == Some(self.store.instance_tag()) {
                    self.last_id = self.last_id.max(id);
                } else {
                    remote.push(id);
                }
            }
        }
        for event in self.store.auth_events.by_ids(&remote).await? {
            self.last_id = self.last_id.max(event.id);
            self.bus.publish(event);
        }
        Ok(())
    }

    /// Publishes the events written since the last one seen (none the first time).
    async fn catch_up(&mut self) -> anyhow::Result<()> {
        let floor = match self.floor {
            Some(floor) => floor,
            None => {
                let newest = self.store.auth_events.last_id().await?;
                self.floor = Some(newest);
                self.last_id = newest;
                return Ok(());
            }
        };
        let mut after = (self.last_id - LOOKBACK).max(floor);
        loop {
            let events = self.store.auth_events.after(after, CATCH_UP_BATCH).await?;
            let full = events.len() as u64 == CATCH_UP_BATCH;
            for event in events {
                after = event.id;
                self.last_id = self.last_id.max(event.id);
                forget_credentials(&self.cache, &event);
                self.bus.publish(event);
            }
            if !full {
                return Ok(());
            }
        }
    }
}
