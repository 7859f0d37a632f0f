//! Proving who you are: the one sequence every flow that judges a password goes through
//! (`login`, `changePassword`, `reauthenticate`, `disableTotp`, a step-up password).
//!
//! The throttle is consulted before anything is checked; a wrong password, and a wrong
//! one-time password, count as failures against the account; a missing one-time password
//! (the first step of a two-step login) counts for nothing; a success forgets the failures.
//! A passkey assertion may stand in for the one-time password; a refused one counts like
//! a wrong code.

use uuid::Uuid;

use super::authenticator::Authenticator;
use super::error::AuthError;
use super::passwords::hasher::Verification;
use super::passwords::password::Password;
use super::sessions::step_up::AuthenticationMethod;
use super::throttle::gate::FailureEvents;
use crate::store::users::UserRow;

/// What a caller offers as proof of an account.
pub(crate) struct Claim<'a> {
    /// The account named, if it exists.
    pub account: Option<UserRow>,
    /// What failures are counted under: the account's id, or for a name no account has,
    /// the stand-in from `throttle::account_lock::account_throttle_key`, or the id of the
    /// known device the attempt comes from (`known_devices`).
    pub throttle_key: Uuid,
    pub password: &'a Password,
    pub otp: Option<&'a str>,
    pub ip: Option<&'a str>,
    /// A passkey assertion offered in place of `otp` (login's second step).
    pub passkey: Option<serde_json::Value>,
    /// What a failure records in the event log; the `reason` detail is added here.
    pub failure_events: FailureEvents,
}

/// An account whose owner has proved who they are.
pub(crate) struct Proven {
    pub account: UserRow,
    /// The password was right but hashed with weaker parameters than configured.
    pub needs_rehash: bool,
    /// What was checked: the password, and the OTP when TOTP is on.
    pub method: AuthenticationMethod,
}

impl Authenticator {
    /// Checks the password, then the second factor, under the throttle. An unknown account
    /// still costs one hash, so timing does not tell it from a wrong password.
    pub(crate) async fn prove(&self, claim: Claim<'_>) -> Result<Proven, AuthError> {
        let Claim {
            account,
            throttle_key,
            password,
            otp,
            ip,
            passkey,
            failure_events,
        } = claim;
        let attempt = self
            .throttle
            .begin_login(Some(throttle_key), ip, self.now())
            .await?;
        let verification = match self.passwords.check(password, account.as_ref()).await {
            Ok(verification) => verification,
            Err(e) => {
                self.throttle.login_abandoned(attempt).await;
                return Err(e);
            }
        };
        let account = match (account, verification) {
            (Some(account), Verification::Match | Verification::MatchNeedsRehash) => account,
            _ => {
                let events = Some(failure_events.because("password"));
                let journal = self
                    .throttle
                    .login_failed_recording(attempt, ip, self.now(), events)
                    .await;
                self.publish(journal);
                return Err(AuthError::InvalidCredentials);
            }
        };
        let with_passkey = passkey.is_some();
        let second = match passkey {
            Some(response) => self.passkey_second_factor(&account, response).await,
            None => self.totp.check(&account, otp, self.now()).await,
        };
        if let Err(e) = second {
            match e {
                AuthError::InvalidOtp | AuthError::Unauthenticated(_) => {
                    let reason = if with_passkey { "passkey" } else { "otp" };
                    let events = Some(failure_events.because(reason));
                    let journal = self
                        .throttle
                        .login_failed_recording(attempt, ip, self.now(), events)
                        .await;
                    self.publish(journal);
                }
                _ => {
                    self.throttle.login_abandoned(attempt).await;
                    self.throttle.refund_login(ip, self.now());
                }
            }
            return Err(e);
        }
        self.throttle.login_succeeded(attempt, self.now()).await;
        self.throttle.refund_login(ip, self.now());
        let method = if with_passkey {
            AuthenticationMethod::PasswordAndPasskey
        } else if account.totp_enabled_at.is_some() {
            AuthenticationMethod::PasswordAndOtp
        } else {
            AuthenticationMethod::Password
        };
        Ok(Proven {
            method,
            account,
            needs_rehash: verification == Verification::MatchNeedsRehash,
        })
    }
}
