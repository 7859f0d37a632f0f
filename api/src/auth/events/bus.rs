//! The in-process announcement of written events: a `tokio::sync::broadcast` of
//! `Arc<AuthEvent>`. Publishing happens after the event's transaction commits, from one
//! call site (`Authenticator::publish`), so a subscriber never hears of a change that was
//! rolled back. A subscriber that falls behind by more than the capacity gets `Lagged`
//! and catches up from the table by id.

use std::sync::Arc;

use tokio::sync::broadcast;

use super::event::AuthEvent;

/// How many events a slow subscriber may fall behind before it is told it lagged.
const CAPACITY: usize = 1024;

pub struct EventBus {
    sender: broadcast::Sender<Arc<AuthEvent>>,
}

impl Default for EventBus {
    fn default() -> EventBus {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        let (sender, _) = broadcast::channel(CAPACITY);
        EventBus { sender }
    }

    /// Announces a committed event to every subscriber. With none, it is dropped: the log
    /// holds it anyway.
    pub fn publish(&self, event: AuthEvent) {
        // An error only means nobody is subscribed.
        let _ = self.sender.send(Arc::new(event));
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
}
