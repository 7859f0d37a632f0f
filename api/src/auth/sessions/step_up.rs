//! Step-up (ASVS 3.7.1): an access token alone must not become a permanent credential.
//!
//! Operations that create or remove a long-lived credential or a factor (a personal
//! token, TOTP; later an email change, a passkey, deleting the account) ask for more than
//! a valid access token: either the caller's session fully authenticated (password, plus
//! OTP where on) within `reauth_window`, or the password (and OTP) given in the same call.
//! Otherwise the answer is `REAUTH_REQUIRED`, and the client calls `reauthenticate`.
//!
//! Such an operation takes a [`StepUp`] (what the call brings) and calls
//! [`Authenticator::require_recent_authentication`] once its input is known to be valid,
//! before it changes anything. The rule itself, [`ReauthWindow::judge`], is pure.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::passwords::password::Password;
use crate::auth::principal::Principal;
use crate::auth::proof::Claim;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::throttle::gate::FailureEvents;

/// How a session last fully authenticated. Stored as text, so later factors (passkeys)
/// add values without a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationMethod {
    Password,
    /// The password and a TOTP code or a recovery code.
    PasswordAndOtp,
    /// A passkey with user verification: possession and a PIN or biometric, two factors.
    Passkey,
    /// The password and, in place of a one-time password, a passkey.
    PasswordAndPasskey,
}

impl AuthenticationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticationMethod::Password => "password",
            AuthenticationMethod::PasswordAndOtp => "password+otp",
            AuthenticationMethod::Passkey => "passkey",
            AuthenticationMethod::PasswordAndPasskey => "password+passkey",
        }
    }
}

/// How recent a full authentication must be for a step-up operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReauthWindow(Duration);

impl ReauthWindow {
    pub fn new(window: Duration) -> ReauthWindow {
        ReauthWindow(window)
    }

    /// The window in whole seconds, as `extensions.reauthWithin` says it.
    pub fn within_secs(self) -> u64 {
        self.0.as_secs()
    }

    /// `Ok` when `last` (the session's last full authentication; `None` for a caller
    /// without a session) lies less than the window before `now`, else `ReauthRequired`.
    pub fn judge(self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), AuthError> {
        let recent = last.is_some_and(|at| match now.signed_duration_since(at).to_std() {
            Ok(age) => age < self.0,
            // Ahead of `now`: stamped moments ago by an instance whose clock runs a
            // little ahead.
            Err(_) => true,
        });
        if recent {
            Ok(())
        } else {
            Err(AuthError::ReauthRequired {
                within_secs: self.within_secs(),
            })
        }
    }
}

/// What a call to a step-up operation brings besides its credential: the password (and
/// OTP) when the caller chose to give them, and the client, for the throttle and the log.
#[derive(Debug, Default)]
pub struct StepUp {
    pub password: Option<SecretString>,
    pub otp: Option<SecretString>,
    pub client: ClientMeta,
}

impl Authenticator {
    /// The one check every step-up operation makes, before it changes anything.
    ///
    /// With a password in the call, the password (and the OTP where TOTP is on) is judged
    /// exactly as at login: on the hashing threads, under the throttle, a wrong one
    /// counting against the account's lock. That proof serves this call only; it does not
    /// make the session recent (that is `reauthenticate`'s job). Without one, the caller's
    /// session must have fully authenticated within `reauth_window`; a personal token has
    /// no session, so it must give the password.
    pub async fn require_recent_authentication(
        &self,
        who: &Principal,
        step_up: StepUp,
    ) -> Result<(), AuthError> {
        let StepUp {
            password,
            otp,
            client,
        } = step_up;
        if let Some(password) = password {
            let password = Password::presented(password, "password")?;
            let account = self.accounts.existing(who.user_id).await?;
            self.prove(Claim {
                account: Some(account),
                throttle_key: who.user_id,
                password: &password,
                otp: otp.as_ref().map(|otp| otp.expose_secret()),
                ip: client.ip.as_deref(),
                passkey: None,
                failure_events: FailureEvents::during(
                    "stepUp",
                    Some(who.user_id),
                    who.session_id(),
                    &client,
                    self.now(),
                ),
            })
            .await?;
            return Ok(());
        }
        let last = match who.session_id() {
            Some(session_id) => self.sessions.last_authenticated(session_id).await?,
            None => None,
        };
        let judged = self.reauth_window.judge(last, self.now());
        if judged.is_err() {
            tracing::info!(user_id = %who.user_id, "step-up refused: no recent authentication");
        }
        judged
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::TimeZone as _;

    use super::*;

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn refused_within(result: Result<(), AuthError>) -> u64 {
        match result {
            Err(AuthError::ReauthRequired { within_secs }) => within_secs,
            other => panic!("expected ReauthRequired, got {other:?}"),
        }
    }

    #[test]
    fn an_authentication_younger_than_the_window_is_recent() {
        let window = ReauthWindow::new(FIVE_MINUTES);
        assert!(window.judge(Some(at(0)), at(0)).is_ok());
        assert!(window.judge(Some(at(0)), at(299)).is_ok());
    }

    #[test]
    fn an_authentication_as_old_as_the_window_or_older_is_not() {
        let window = ReauthWindow::new(FIVE_MINUTES);
        assert_eq!(refused_within(window.judge(Some(at(0)), at(300))), 300);
        assert_eq!(refused_within(window.judge(Some(at(0)), at(86_400))), 300);
    }

    #[test]
    fn no_session_means_no_recent_authentication() {
        let window = ReauthWindow::new(Duration::from_secs(3600));
        assert_eq!(refused_within(window.judge(None, at(0))), 3600);
    }

    #[test]
    fn a_time_stamped_slightly_ahead_by_another_instance_counts_as_recent() {
        let window = ReauthWindow::new(FIVE_MINUTES);
        assert!(window.judge(Some(at(2)), at(0)).is_ok());
    }

    #[test]
    fn methods_are_stored_as_stable_text() {
        assert_eq!(AuthenticationMethod::Password.as_str(), "password");
        assert_eq!(
            AuthenticationMethod::PasswordAndOtp.as_str(),
            "password+otp"
        );
    }
}
