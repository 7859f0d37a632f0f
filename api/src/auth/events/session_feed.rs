//! One subscriber's feed of its account's session events (`sessionEvents`): the notices
//! the bus brings for the account, then the end of the subscriber's own session.
//!
//! - It subscribes to the bus before it checks that the session is live, so nothing
//!   written in between is missed; events already in the log when it started are not
//!   told again.
//! - A subscriber that falls behind the bus (`Lagged`) reads the account's events after
//!   the last one it saw from the log, so nothing is skipped; what the bus still holds of
//!   them afterwards is recognised and dropped.
//! - The own session also ends without an event reaching this instance: by expiry, or
//!   by a change made by another process (the CLI on SQLite, another instance while
//!   notifications are down). So the session's row is read again at its expiry and at
//!   least every `RECHECK`.
//! - Personal tokens may not subscribe: they belong to no session (nothing the feed could
//!   watch end), and they live in scripts, not open tabs; `myAuthEvents` serves them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::event::AuthEvent;
use super::notice::{EndReason, SessionNotice};
use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::principal::Principal;

/// The longest a feed goes without reading its session's row again.
const RECHECK: Duration = Duration::from_secs(30);
/// Events read per query while catching up from the log.
const CATCH_UP_PAGE: u64 = 200;
/// Notices remembered, to drop the copies the bus still delivers after a catch-up.
const REMEMBERED: usize = 512;

/// What a feed yields.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    Notice(SessionNotice),
    /// The subscriber's own session ended; nothing follows.
    Ended(EndReason),
}

pub struct SessionFeed {
    auth: Arc<Authenticator>,
    bus: broadcast::Receiver<Arc<AuthEvent>>,
    account: Uuid,
    session: Uuid,
    expires_at: DateTime<Utc>,
    /// The highest id of the account's events seen: where a catch-up reads from.
    last_id: i64,
    /// Ids up to which the log was read by the last catch-up.
    caught_up_to: i64,
    delivered: VecDeque<i64>,
    pending: VecDeque<SessionNotice>,
    end_after_pending: Option<EndReason>,
    ended: bool,
}

impl Authenticator {
    /// The feed of `who`'s session events, from now on. `FORBIDDEN` for a personal
    /// token; `UNAUTHENTICATED` when the session has already ended.
    ///
    /// With `after` (an event id, as `SessionEvent.eventId` and `myAuthEvents` show it),
    /// the account's events after it are told first, from the log: a client that
    /// reconnects, or that must not miss what happens while it subscribes, names the
    /// last event it knows.
    pub async fn session_feed(
        self: &Arc<Self>,
        who: &Principal,
        after: Option<&str>,
    ) -> Result<SessionFeed, AuthError> {
        let session = who.session_id().ok_or(AuthError::Forbidden(
            "sessionEvents follows a login session; a personal token has none: use myAuthEvents",
        ))?;
        let bus = self.event_bus().subscribe();
        // Read before the session: an event up to this id is reflected in the session's
        // row read below, and the bus's copy of it is dropped.
        let after = after
            .map(|id| {
                id.parse::<i64>()
                    .ok()
                    .filter(|id| *id >= 0)
                    .ok_or_else(|| AuthError::bad_input("after", "must be an event id"))
            })
            .transpose()?;
        let last_id = match after {
            Some(id) => id,
            None => self.event_log.newest_id_of(who.user_id).await?,
        };
        let now = self.now();
        let live_until = self
            .sessions
            .find(session)
            .await?
            .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
            .map(|s| s.expires_at);
        let mut feed = SessionFeed {
            auth: self.clone(),
            bus,
            account: who.user_id,
            session,
            expires_at: live_until.unwrap_or(now),
            last_id,
            caught_up_to: last_id,
            delivered: VecDeque::new(),
            pending: VecDeque::new(),
            end_after_pending: None,
            ended: false,
        };
        if after.is_some() {
            feed.catch_up().await?;
        }
        // A session that ended after the event the client named (between its connecting
        // and subscribing, say) is told as it happened: its end, then the close.
        let end_is_told = feed.pending.iter().any(|n| n.ends_own_session().is_some());
        if live_until.is_none() && !end_is_told {
            return Err(AuthError::Unauthenticated("the session has ended"));
        }
        Ok(feed)
    }
}

impl SessionFeed {
    /// The next notice, or the end of the own session; `None` after the end (or when the
    /// server stops).
    pub async fn next(&mut self) -> Option<FeedItem> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(notice) = self.pending.pop_front() {
                if let Some(reason) = notice.ends_own_session() {
                    self.pending.clear();
                    self.end_after_pending = Some(reason);
                }
                return Some(FeedItem::Notice(notice));
            }
            if let Some(reason) = self.end_after_pending.take() {
                self.ended = true;
                return Some(FeedItem::Ended(reason));
            }
            let wait = self.until_recheck();
            tokio::select! {
                received = self.bus.recv() => match received {
                    Ok(event) => self.take(&event, false),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a session-events subscriber lagged: catching up from the log");
                        if let Err(e) = self.catch_up().await {
                            tracing::warn!(error = %e, "could not catch up a session-events subscriber");
                        }
                    }
                    Err(RecvError::Closed) => {
                        self.ended = true;
                        return None;
                    }
                },
                () = tokio::time::sleep(wait) => {
                    if let Some(reason) = self.recheck().await {
                        self.end_after_pending = Some(reason);
                    }
                }
            }
        }
    }

    /// Until the session's expiry by the server's clock, or `RECHECK`, whichever is sooner.
    fn until_recheck(&self) -> Duration {
        (self.expires_at - self.auth.now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(RECHECK)
    }

    /// Queues the notice `event` makes, unless it was queued before. Events read from
    /// the log (`from_log`) move the catch-up mark.
    fn take(&mut self, event: &AuthEvent, from_log: bool) {
        if event.user_id != Some(self.account) {
            return;
        }
        if from_log {
            self.caught_up_to = self.caught_up_to.max(event.id);
        } else if event.id <= self.caught_up_to {
            // Read from the log by a catch-up already (or older than the feed).
            return;
        }
        self.last_id = self.last_id.max(event.id);
        let Some(notice) = SessionNotice::from_event(event, self.account, self.session) else {
            return;
        };
        if self.delivered.contains(&event.id) {
            return;
        }
        if self.delivered.len() == REMEMBERED {
            self.delivered.pop_front();
        }
        self.delivered.push_back(event.id);
        self.pending.push_back(notice);
    }

    /// Reads the account's events after the last one seen from the log.
    async fn catch_up(&mut self) -> Result<(), AuthError> {
        loop {
            let events = self
                .auth
                .event_log
                .after_of(self.account, self.last_id, CATCH_UP_PAGE)
                .await?;
            for event in &events {
                self.take(event, true);
            }
            if (events.len() as u64) < CATCH_UP_PAGE {
                return Ok(());
            }
        }
    }

    /// Whether the own session ended without this feed hearing of it, and why.
    async fn recheck(&mut self) -> Option<EndReason> {
        let now = self.auth.now();
        if now >= self.expires_at {
            return Some(EndReason::Expired);
        }
        match self.auth.sessions.find(self.session).await {
            // A live session's row disappears only with its account.
            Ok(None) => Some(EndReason::AccountDeleted),
            Ok(Some(row)) if row.revoked_at.is_some() => {
                Some(EndReason::from_recorded(row.revoked_reason.as_deref()))
            }
            Ok(Some(row)) if row.expires_at <= now => Some(EndReason::Expired),
            Ok(Some(_)) => None,
            Err(e) => {
                // An outage is not the end of the session: try again at the next recheck.
                tracing::warn!(error = %e, "could not recheck a session-events subscriber's session");
                None
            }
        }
    }
}
