//! `reauthenticate`: proving who you are again inside a session, so that its step-up
//! operations work for another `reauth_window`, without opening a new session.

use super::listing::LiveSession;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::passwords::password::Password;
use crate::auth::principal::Principal;
use crate::auth::proof::Claim;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::throttle::gate::FailureEvents;

impl Authenticator {
    /// Judges the password (and the OTP when TOTP is on) as login does: on the hashing
    /// threads, under the throttle, a wrong one counting against the account's lock; an
    /// expired password is `PasswordExpired`, as at login. Then records the session's
    /// authentication as now. Needs a login session: a personal token has none to refresh.
    pub async fn reauthenticate(
        &self,
        who: &Principal,
        password: SecretString,
        otp: Option<SecretString>,
        client: &ClientMeta,
    ) -> Result<LiveSession, AuthError> {
        let Some(session_id) = who.session_id() else {
            return Err(AuthError::Forbidden(
                "a personal token has no session to re-authenticate: give password (and otp) \
                 in the call that needs it, or log in",
            ));
        };
        let password = Password::presented(password, "password")?;
        let account = self.accounts.existing(who.user_id).await?;
        let proven = self
            .prove(Claim {
                account: Some(account),
                throttle_key: who.user_id,
                password: &password,
                otp: otp.as_ref().map(|otp| otp.expose_secret()),
                ip: client.ip.as_deref(),
                passkey: None,
                failure_events: FailureEvents::during(
                    "reauthenticate",
                    Some(who.user_id),
                    Some(session_id),
                    client,
                    self.now(),
                ),
            })
            .await?;
        if proven.needs_rehash {
            self.passwords.upgrade(&proven.account, &password).await;
        }
        let now = self.now();
        if self
            .accounts
            .view(&proven.account)
            .password_expires_at
            .is_some_and(|at| at <= now)
        {
            return Err(AuthError::PasswordExpired);
        }
        let row = self
            .sessions
            .record_authentication(session_id, proven.method, now)
            .await?;
        tracing::info!(user_id = %who.user_id, %session_id, method = proven.method.as_str(), "session re-authenticated");
        Ok(LiveSession::of(row, true))
    }
}
