//! The in-process announcement of written events: a `tokio::sync::broadcast` of
//! `Arc<AuthEvent>`. Publishing happens after the event's transaction commits, from one
//! call site (`Authenticator::publish`), so a subscriber never hears of a change that was
//! rolled back. A subscriber that falls behind by more than the capacity gets `Lagged`
//! and catches up from the table by id.
//!
//! Events written by other processes are published here too, by `crate::notify`; an
//! event can then reach the bus twice (announced by this process, and caught up from the
//! table after a gap in the notifications), so the bus remembers the ids it published
//! last and lets each through once.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use super::event::AuthEvent;

/// How many events a slow subscriber may fall behind before it is told it lagged.
const CAPACITY: usize = 1024;
/// How many of the last ids published are remembered to refuse a second publication.
const REMEMBERED_IDS: usize = 16_384;

pub struct EventBus {
    sender: broadcast::Sender<Arc<AuthEvent>>,
    published: Mutex<RecentIds>,
}

#[derive(Default)]
struct RecentIds {
    order: VecDeque<i64>,
    set: HashSet<i64>,
}

impl RecentIds {
    /// Remembers `id`; false if it was remembered already.
    fn insert(&mut self, id: i64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED_IDS
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        true
    }
}

impl Default for EventBus {
    fn default() -> EventBus {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        let (sender, _) = broadcast::channel(CAPACITY);
        EventBus {
            sender,
            published: Mutex::default(),
        }
    }

    /// Announces a committed event to every subscriber, unless an event with its id was
    /// announced already. With no subscriber, it is dropped: the log holds it anyway.
    pub fn publish(&self, event: AuthEvent) {
        let first = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(event.id);
        if first {
            // An error only means nobody is subscribed.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    /// Every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AuthEvent>> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{DateTime, Utc};

    use super::EventBus;
    use crate::auth::events::{AuthEvent, AuthEventKind, NewAuthEvent};

    #[tokio::test]
    async fn a_subscriber_hears_events_published_after_it_subscribed() {
        let bus = EventBus::new();
        bus.publish(AuthEvent::written(
            1,
            NewAuthEvent::new(AuthEventKind::LoggedOut, DateTime::<Utc>::UNIX_EPOCH),
        ));
        let mut rx = bus.subscribe();
        bus.publish(AuthEvent::written(
            2,
            NewAuthEvent::new(AuthEventKind::SessionRevoked, DateTime::<Utc>::UNIX_EPOCH),
        ));
        let got = rx.recv().await.unwrap();
        assert_eq!(got.id, 2);
        assert_eq!(got.kind, Some(AuthEventKind::SessionRevoked));
    }

    #[tokio::test]
    async fn an_event_published_twice_is_heard_once() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        let event = |id| {
            AuthEvent::written(
                id,
                NewAuthEvent::new(AuthEventKind::LoggedOut, DateTime::<Utc>::UNIX_EPOCH),
            )
        };
        bus.publish(event(3));
        bus.publish(event(3));
        bus.publish(event(4));
        assert_eq!(rx.recv().await.unwrap().id, 3);
        assert_eq!(rx.recv().await.unwrap().id, 4);
        assert!(rx.try_recv().is_err());
    }
}
