//! Reading the event log a page at a time, and forgetting what retention no longer keeps.
//!
//! Pages run newest first. A cursor names the last event of a page (its id, which orders
//! the log) and is opaque to clients: `ev:` and the id, base64url-encoded, so nobody
//! builds one by hand and we may change what it holds.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::event::AuthEvent;
use crate::auth::error::AuthError;
use crate::store::auth_events::{AuthEvents, EventFilter};

/// Events per page when `first` is not given.
pub const DEFAULT_PAGE: u32 = 20;
/// The most events one page may ask for.
pub const MAX_PAGE: u32 = 100;
/// Old events are deleted at most this often per instance (by the injected clock).
const PRUNE_INTERVAL: chrono::Duration = chrono::Duration::hours(1);

const CURSOR_TAG: &str = "ev:";

/// One page of the log.
#[derive(Debug)]
pub struct EventPage {
    pub events: Vec<AuthEvent>,
    pub has_next_page: bool,
    /// The cursor after the page's last event (also when that event is not shown).
    pub end_cursor: Option<String>,
}

pub struct EventLog {
    events: AuthEvents,
    retention: Duration,
    last_prune: Mutex<Option<DateTime<Utc>>>,
}

impl EventLog {
    pub fn new(events: AuthEvents, retention: Duration) -> EventLog {
        EventLog {
            events,
            retention,
            last_prune: Mutex::new(None),
        }
    }

    /// The page of events matching `filter` after the cursor `after` (newest first).
    /// `first` is 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]); a cursor this server did
    /// not make is `BAD_USER_INPUT`.
    pub async fn page(
        &self,
        filter: &EventFilter,
        first: Option<i32>,
        after: Option<&str>,
    ) -> Result<EventPage, AuthError> {
        let first = page_size(first)?;
        let before_id = after.map(decode_cursor).transpose()?;
        let mut events = self
            .events
            .newest_first(filter, before_id, u64::from(first) + 1)
            .await?;
        let has_next_page = events.len() > first as usize;
        events.truncate(first as usize);
        Ok(EventPage {
            end_cursor: events.last().map(cursor_of),
            events,
            has_next_page,
        })
    }

    /// The id of `user`'s newest event, 0 if none: where a subscriber's catch-up starts.
    pub(crate) async fn newest_id_of(&self, user: Uuid) -> Result<i64, AuthError> {
        let filter = EventFilter {
            user_id: Some(user),
            ..EventFilter::default()
        };
        let newest = self.events.newest_first(&filter, None, 1).await?;
        Ok(newest.first().map_or(0, |e| e.id))
    }

    /// `user`'s events after `after_id`, oldest first, at most `limit`.
    pub(crate) async fn after_of(
        &self,
        user: Uuid,
        after_id: i64,
        limit: u64,
    ) -> Result<Vec<AuthEvent>, AuthError> {
        Ok(self.events.after_for_user(user, after_id, limit).await?)
    }

    /// Deletes, in the background, the events older than `event_retention`, at most once
    /// per `PRUNE_INTERVAL` of the clock on this instance.
    pub fn prune_if_due(&self, now: DateTime<Utc>) {
        {
            let mut last = self
                .last_prune
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| now < at + PRUNE_INTERVAL) {
                return;
            }
            *last = Some(now);
        }
        let Some(before) = chrono::Duration::from_std(self.retention)
            .ok()
            .and_then(|retention| now.checked_sub_signed(retention))
        else {
            return;
        };
        let events = self.events.clone();
        tokio::spawn(async move {
            match events.delete_before(before).await {
                Ok(deleted) => tracing::debug!(deleted, "old security events deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete old security events"),
            }
        });
    }
}

fn page_size(first: Option<i32>) -> Result<u32, AuthError> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| AuthError::bad_input("first", "must be between 1 and 100")),
    }
}

/// The cursor that points after `event`.
pub fn cursor_of(event: &AuthEvent) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_TAG}{}", event.id))
}

fn decode_cursor(cursor: &str) -> Result<i64, AuthError> {
    const BAD: &str = "is not a cursor from this list";
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| AuthError::bad_input("after", BAD))?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.strip_prefix(CURSOR_TAG))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| AuthError::bad_input("after", BAD))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::auth::events::{AuthEventKind, NewAuthEvent};

    fn event(id: i64) -> AuthEvent {
        AuthEvent::written(
            id,
            NewAuthEvent::new(AuthEventKind::LoggedOut, DateTime::<Utc>::UNIX_EPOCH),
        )
    }

    #[test]
    fn a_cursor_reads_back_as_its_event_id() {
        for id in [1, 42, i64::MAX] {
            assert_eq!(decode_cursor(&cursor_of(&event(id))).unwrap(), id);
        }
    }

    #[test]
    fn cursors_not_made_here_are_refused() {
        let forged = [
            "",
            "42",
            "!!!",
            &URL_SAFE_NO_PAD.encode("ev:"),
            &URL_SAFE_NO_PAD.encode("ev:-1"),
            &URL_SAFE_NO_PAD.encode("ev:0"),
            &URL_SAFE_NO_PAD.encode("ev:+5"),
            &URL_SAFE_NO_PAD.encode("ev:99999999999999999999"),
            &URL_SAFE_NO_PAD.encode("xx:5"),
            &URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
        ];
        for cursor in forged {
            assert!(
                matches!(decode_cursor(cursor), Err(AuthError::BadInput { .. })),
                "{cursor:?}"
            );
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_size(Some(1)).unwrap(), 1);
        assert_eq!(page_size(Some(100)).unwrap(), 100);
        for bad in [0, -1, 101, i32::MAX, i32::MIN] {
            assert!(page_size(Some(bad)).is_err(), "{bad}");
        }
    }
}
