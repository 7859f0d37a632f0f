//! Who may read which events: an account its own (`myAuthEvents`), an admin everyone's
//! (`authEvents`).

use super::log::EventPage;
use crate::auth::accounts::account::Role;
use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::principal::Principal;
use crate::store::auth_events::EventFilter;

impl Authenticator {
    /// The caller's own events, newest first. A personal token may read them: they are
    /// its owner's.
    pub async fn my_events(
        &self,
        who: &Principal,
        first: Option<i32>,
        after: Option<&str>,
    ) -> Result<EventPage, AuthError> {
        let filter = EventFilter {
            user_id: Some(who.user_id),
            ..EventFilter::default()
        };
        self.event_log.page(&filter, first, after).await
    }

    /// Every account's events matching `filter`, newest first: admins only, and only from
    /// a login session. The log holds every account's addresses and devices, and is where
    /// an admin looks for what a stolen credential did, so a long-lived personal token
    /// (the kind that leaks into scripts and CI logs) may not read it.
    pub async fn all_events(
        &self,
        who: &Principal,
        filter: EventFilter,
        first: Option<i32>,
        after: Option<&str>,
    ) -> Result<EventPage, AuthError> {
        if who.session_id().is_none() {
            return Err(AuthError::Forbidden(
                "the event log of all accounts is not open to personal tokens: log in",
            ));
        }
        let me = self.accounts.existing(who.user_id).await?;
        if Role::from_stored(&me.role) != Role::Admin {
            return Err(AuthError::Forbidden(
                "only an admin may read the event log of all accounts",
            ));
        }
        self.event_log.page(&filter, first, after).await
    }
}
