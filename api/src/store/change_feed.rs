//! PostgreSQL's notifications of changes, as this process hears them (`LISTEN`).
//!
//! The database announces, through triggers (migration `notify_changes`) and so in the
//! writing transaction, at its commit: every event written to `auth_events` (its id, kind
//! and account), and every change to an account's shown fields or its deletion (the
//! account), whichever process wrote it, CLI included. A notification carries no secret
//! and no client data, and says which connection wrote it: its `application_name`, which
//! each process sets to a name of its own ([`Store::instance_tag`]), so a process can
//! tell its own changes from the others'.

use sea_orm::sqlx::postgres::PgListener;
use serde::Deserialize;
use uuid::Uuid;

use super::{Store, StoreError};

/// The channel the triggers notify on.
pub const CHANNEL: &str = "latchkey_changes";

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Notice {
    /// The event written, if the notice is about one.
    #[serde(default)]
    pub event: Option<i64>,
    /// The event's kind, as stored.
    #[serde(default)]
    pub kind: Option<String>,
    /// The account the change concerns.
    #[serde(default)]
    pub user: Option<Uuid>,
    /// The `application_name` of the connection that wrote it.
    #[serde(default)]
    pub from: Option<String>,
}

/// The connection was lost (or could not be used): notices may have been missed.
#[derive(Debug, thiserror::Error)]
#[error("the notification connection was lost")]
pub struct Lost;

/// A connection listening on [`CHANNEL`], held outside the pool's turnover.
pub struct ChangeListener {
    listener: PgListener,
}

impl Store {
    /// The name this process's connections give PostgreSQL (`application_name`).
    pub fn instance_tag(&self) -> &str {
        &self.instance_tag
    }

    /// Starts listening; from when this returns, every committed change is heard until
    /// the listener reports [`Lost`]. PostgreSQL only.
    pub async fn listen_for_changes(&self) -> Result<ChangeListener, StoreError> {
        let pool = self.db.reader().get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool).await.map_err(sqlx_error)?;
        // A lost connection is reported rather than silently replaced, so the caller
        // knows to catch up.
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await.map_err(sqlx_error)?;
        Ok(ChangeListener { listener })
    }
}

impl ChangeListener {
    /// The next notice; [`Lost`] when the connection ended (then drop this listener and
    /// listen anew). A notice that cannot be read is skipped with a warning.
    pub async fn next(&mut self) -> Result<Notice, Lost> {
        loop {
            match self.listener.try_recv().await {
                Ok(Some(notification)) => match parse(notification.payload()) {
                    Some(notice) => return Ok(notice),
                    None => continue,
                },
                Ok(None) => return Err(Lost),
                Err(e) => {
                    tracing::warn!(error = %e, "the notification connection failed");
                    return Err(Lost);
                }
            }
        }
    }

    /// A notice already received, if any: to handle a burst in one go.
    pub fn next_buffered(&mut self) -> Option<Notice> {
        while let Some(notification) = self.listener.next_buffered() {
            if let Some(notice) = parse(notification.payload()) {
                return Some(notice);
            }
        }
        None
    }
}

fn parse(payload: &str) -> Option<Notice> {
    match serde_json::from_str(payload) {
        Ok(notice) => Some(notice),
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable change notification was skipped");
            None
        }
    }
}

fn sqlx_error(e: sea_orm::sqlx::Error) -> StoreError {
    StoreError::from(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(e),
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{Notice, parse};

    #[test]
    fn notices_of_events_and_of_accounts_read_back() {
        let user = uuid::Uuid::now_v7();
        assert_eq!(
            parse(&format!(
                r#"{{"event":7,"kind":"LOGGED_OUT","user":"{user}","from":"latchkey-x"}}"#
            )),
            Some(Notice {
                event: Some(7),
                kind: Some("LOGGED_OUT".into()),
                user: Some(user),
                from: Some("latchkey-x".into()),
            })
        );
        assert_eq!(
            parse(&format!(r#"{{"event":null,"user":"{user}","from":null}}"#))
                .unwrap()
                .user,
            Some(user)
        );
        assert_eq!(parse("not json"), None);
    }
}
