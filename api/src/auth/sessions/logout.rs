//! Logging out: ending the session a credential belongs to, or every session of its user.

use uuid::Uuid;

use super::ledger::session_ended;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::personal_tokens::ledger::token_deleted;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::store::auth_events::Journal;

/// Which session `logout` should end.
#[derive(Debug)]
pub enum LogoutTarget {
    /// The session of this refresh token: holding it is authority over its session.
    RefreshToken(SecretString),
    /// The session of the access token in use.
    Session(Uuid),
    Nothing,
}

impl Authenticator {
    /// Ends the targeted session, or with `all_sessions` every session of its user.
    /// `true` when something was revoked.
    ///
    /// With `end_personal_tokens` (which needs `all_sessions`) the user's personal tokens
    /// are deleted too, after the sessions: everything that acts as the account stops.
    pub async fn logout(
        &self,
        target: LogoutTarget,
        all_sessions: bool,
        end_personal_tokens: bool,
        client: &ClientMeta,
    ) -> Result<bool, AuthError> {
        if end_personal_tokens && !all_sessions {
            return Err(AuthError::bad_input(
                "endPersonalTokens",
                "needs allSessions: true (it ends everything that acts as the account)",
            ));
        }
        let session_id = match target {
            LogoutTarget::RefreshToken(presented) => {
                match self
                    .sessions
                    .session_to_end(presented.expose_secret(), self.now())
                    .await?
                {
                    Some(id) => id,
                    None => return Ok(false),
                }
            }
            LogoutTarget::Session(id) => id,
            LogoutTarget::Nothing => return Ok(false),
        };
        let now = self.now();
        // `LOGGED_OUT` for the session logout was called for, then `SESSION_REVOKED` for
        // each session it ended (that one included).
        let events = |reason: &'static str| {
            move |owner: Uuid| {
                Journal::of(
                    NewAuthEvent::new(AuthEventKind::LoggedOut, now)
                        .user(owner)
                        .session(Some(session_id))
                        .client(client)
                        .detail("allSessions", all_sessions),
                )
                .per_ended_session(session_ended(owner, reason, client, now))
            }
        };
        if all_sessions {
            let Some((owner, journal)) = self
                .sessions
                .end_all_of_owner(session_id, "logout_all", events("logout_all"), now)
                .await?
            else {
                return Ok(false);
            };
            self.publish(journal);
            if end_personal_tokens {
                let mut journal = Journal::new().per_deleted_token(
                    token_deleted(owner, "logout_all", client, now).session(Some(session_id)),
                );
                let deleted = self
                    .personal_tokens
                    .delete_all_of(owner, &mut journal)
                    .await?;
                self.publish(journal);
                tracing::info!(user_id = %owner, deleted, "personal tokens ended at logout");
            }
            Ok(true)
        } else {
            let (ended, journal) = self
                .sessions
                .end(session_id, "logout", events("logout"), now)
                .await?;
            self.publish(journal);
            Ok(ended)
        }
    }
}
