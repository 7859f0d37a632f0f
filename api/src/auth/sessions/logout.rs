//! Logging out: ending the session a credential belongs to, or every session of its user.

use uuid::Uuid;

use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::secret::{ExposeSecret as _, SecretString};

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
        if all_sessions {
            let Some(owner) = self
                .sessions
                .end_all_of_owner(session_id, "logout_all", now)
                .await?
            else {
                return Ok(false);
            };
            if end_personal_tokens {
                let deleted = self.personal_tokens.delete_all_of(owner).await?;
                tracing::info!(user_id = %owner, deleted, "personal tokens ended at logout");
            }
            Ok(true)
        } else {
            self.sessions.end(session_id, "logout", now).await
        }
    }
}
