//! Two-factor authentication with TOTP (RFC 6238) and recovery codes.
//!
//! An account enrols (a pending secret), confirms with a code from its app (TOTP is on,
//! recovery codes are handed out once), and from then on every flow that checks the
//! password also calls [`Authenticator::check_second_factor`]. A code works once: the
//! last time step used is stored and only later ones are accepted, with a conditional
//! update, so two requests racing with one code cannot both pass.

use std::fmt;

use super::AuthError;
use super::password::Verification;
use super::principal::Principal;
use super::recovery_codes::{self, RecoveryCode};
use super::service::Authenticator;
use super::throttle::ThrottledAction;
use super::totp_key::TotpKey;
use super::values::Password;
use crate::store::users::UserRow;

/// A fresh, pending enrolment: what the user puts into an authenticator app.
pub struct Enrollment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` URL, for a QR code.
    pub otpauth_url: String,
}

impl fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enrollment([redacted])")
    }
}

/// What a client sent as `otp`: a code from the app, or a recovery code.
#[derive(Debug, PartialEq, Eq)]
enum PresentedOtp {
    Code(String),
    Recovery(RecoveryCode),
}

impl PresentedOtp {
    /// Apps show codes as `123 456`, so spaces are dropped. `None` for anything that is
    /// neither a code nor a recovery code.
    fn parse(raw: &str) -> Option<PresentedOtp> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() == usize::from(super::totp_key::DIGITS)
            && compact.bytes().all(|b| b.is_ascii_digit())
        {
            return Some(PresentedOtp::Code(compact));
        }
        RecoveryCode::parse(raw).map(PresentedOtp::Recovery)
    }
}

/// Why `enrollTotp` / `confirmTotp` refuse when the account is not in the right state.
/// There is no argument at fault, so the field named is `totp`.
const ALREADY_ON: &str = "is already enabled: turn it off with disableTotp before enrolling again";
const NOTHING_PENDING: &str = "has no enrolment waiting for confirmation: call enrollTotp first";

impl Authenticator {
    /// Issues a fresh secret and stores it as pending, replacing a pending one. Refused
    /// while TOTP is on. Only a logged-in session may enrol: a leaked personal token could
    /// otherwise turn TOTP on with a secret of its holder's and lock the owner out.
    pub async fn enroll_totp(&self, who: &Principal) -> Result<Enrollment, AuthError> {
        if who.session_id().is_none() {
            return Err(AuthError::Forbidden(
                "a personal token cannot enrol TOTP: log in to enrol",
            ));
        }
        let row = self
            .store
            .users
            .find(who.user_id)
            .await?
            .ok_or(AuthError::Unauthenticated("account no longer exists"))?;
        let key = TotpKey::generate(&row.username)?;
        let secret = key.secret_base32();
        if !self
            .store
            .totp
            .enroll(who.user_id, &secret, self.now())
            .await?
        {
            return Err(AuthError::bad_input("totp", ALREADY_ON));
        }
        tracing::info!(user_id = %who.user_id, "TOTP enrolment started");
        Ok(Enrollment {
            otpauth_url: key.otpauth_url()?,
            secret,
        })
    }

    /// Checks a code against the pending secret and turns TOTP on. Returns the recovery
    /// codes, as shown to the user: the only time they exist in the clear.
    pub async fn confirm_totp(
        &self,
        who: &Principal,
        otp: &str,
        ip: Option<&str>,
    ) -> Result<Vec<String>, AuthError> {
        self.throttle_ip(ThrottledAction::Totp, ip)?;
        let pending = self
            .store
            .totp
            .find(who.user_id)
            .await?
            .filter(|row| row.enabled_at.is_none())
            .ok_or_else(|| AuthError::bad_input("totp", NOTHING_PENDING))?;
        let Some(PresentedOtp::Code(code)) = PresentedOtp::parse(otp) else {
            return Err(AuthError::InvalidOtp);
        };
        let now = self.now();
        let step = TotpKey::from_stored(&pending.secret)?
            .matching_step(&code, now, None)
            .ok_or(AuthError::InvalidOtp)?;
        let codes = recovery_codes::generate_set();
        let hashes: Vec<String> = codes.iter().map(|c| c.hash().as_str().to_owned()).collect();
        // The confirming code's step counts as used, so it cannot log in afterwards.
        let enabled = self
            .store
            .totp
            .enable(who.user_id, &pending.secret, to_stored(step)?, &hashes, now)
            .await?;
        if !enabled {
            // Confirmed by a racing request with the same code, or re-enrolled meanwhile:
            // either way this code no longer confirms anything.
            return Err(AuthError::InvalidOtp);
        }
        tracing::info!(user_id = %who.user_id, "TOTP enabled");
        Ok(codes.iter().map(RecoveryCode::display).collect())
    }

    /// Turns TOTP off, given the password and a current code (or a recovery code), and
    /// deletes the recovery codes. `false` when TOTP was not on (a pending enrolment is
    /// discarded all the same).
    pub async fn disable_totp(
        &self,
        who: &Principal,
        password: String,
        otp: &str,
        ip: Option<&str>,
    ) -> Result<bool, AuthError> {
        // Guessing the password or a code here is guessing a login credential: the same
        // per-address budget and account lock apply.
        self.throttle_ip(ThrottledAction::Totp, ip)?;
        let prior_failures = self.login_throttle_check(Some(who.user_id), ip).await?;
        let row = self
            .store
            .users
            .find(who.user_id)
            .await?
            .ok_or(AuthError::Unauthenticated("account no longer exists"))?;
        let password = Password::presented(password, "password")?;
        let verification = self
            .hasher
            .verify(&password, Some(row.password_hash.as_str()))
            .await?;
        if verification == Verification::Mismatch {
            self.login_failed(Some(who.user_id), ip).await;
            return Err(AuthError::InvalidCredentials);
        }
        if let Err(e) = self.check_second_factor(&row, Some(otp)).await {
            match e {
                AuthError::InvalidOtp => self.login_failed(Some(who.user_id), ip).await,
                _ => self.login_ip_refund(ip),
            }
            return Err(e);
        }
        self.login_succeeded(who.user_id, prior_failures).await;
        self.login_ip_refund(ip);
        let was_on = self.store.totp.disable(who.user_id).await?;
        if was_on {
            tracing::info!(user_id = %who.user_id, "TOTP disabled");
        }
        Ok(was_on)
    }

    /// The second factor, for every flow that has just checked a password (`login`,
    /// `changePassword`, `disableTotp`). `Ok` when the account has TOTP off, whatever
    /// `otp` says. Otherwise `OtpRequired` without an `otp` (a blank one counts as none),
    /// and `InvalidOtp` unless it is a code of a time step later than the last one used
    /// (one step of drift either way), or an unspent recovery code. Accepting spends it.
    ///
    /// `account` is the row just read for the password check. Its TOTP flag changes in
    /// the same transaction as the `totp` row, so while it is off there is no secret to
    /// read, and a login without TOTP costs no query here.
    pub(crate) async fn check_second_factor(
        &self,
        account: &UserRow,
        otp: Option<&str>,
    ) -> Result<(), AuthError> {
        if account.totp_enabled_at.is_none() {
            return Ok(());
        }
        let user_id = account.id;
        let Some(totp) = self
            .store
            .totp
            .find(user_id)
            .await?
            .filter(|row| row.enabled_at.is_some())
        else {
            return Ok(());
        };
        let otp = otp
            .filter(|otp| !otp.trim().is_empty())
            .ok_or(AuthError::OtpRequired)?;
        let now = self.now();
        let accepted = match PresentedOtp::parse(otp) {
            Some(PresentedOtp::Code(code)) => {
                let last_used = totp.last_used_step.and_then(|s| u64::try_from(s).ok());
                match TotpKey::from_stored(&totp.secret)?.matching_step(&code, now, last_used) {
                    Some(step) => {
                        self.store
                            .totp
                            .record_step(user_id, to_stored(step)?)
                            .await?
                    }
                    None => false,
                }
            }
            Some(PresentedOtp::Recovery(code)) => {
                let spent = self
                    .store
                    .totp
                    .spend_recovery_code(user_id, code.hash().as_str(), now)
                    .await?;
                if spent {
                    tracing::info!(%user_id, "TOTP recovery code used");
                }
                spent
            }
            None => false,
        };
        if accepted {
            Ok(())
        } else {
            Err(AuthError::InvalidOtp)
        }
    }
}

fn to_stored(step: u64) -> Result<i64, AuthError> {
    i64::try_from(step).map_err(|_| AuthError::Internal(anyhow::anyhow!("time step out of range")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn six_digits_are_a_code_with_the_spaces_apps_show_dropped() {
        for raw in ["123456", "123 456", " 123456\n"] {
            assert_eq!(
                PresentedOtp::parse(raw),
                Some(PresentedOtp::Code("123456".to_owned())),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn a_recovery_code_is_told_apart_from_a_code() {
        let code = RecoveryCode::generate();
        assert_eq!(
            PresentedOtp::parse(&code.display()),
            Some(PresentedOtp::Recovery(code))
        );
    }

    #[test]
    fn anything_else_is_neither() {
        for raw in ["", "12345", "1234567", "12345a", "password", "+12345"] {
            assert_eq!(PresentedOtp::parse(raw), None, "{raw:?}");
        }
    }
}
