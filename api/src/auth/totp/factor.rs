//! The TOTP factor of an account as the database keeps it: a pending or enabled secret,
//! the last time step used, and the recovery codes' hashes.
//!
//! A code works once: the last time step used is stored and only later ones are accepted,
//! with a conditional update, so two requests racing with one code cannot both pass.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::key::TotpKey;
use super::otp::PresentedOtp;
use super::recovery_codes::{self, RecoveryCode};
use crate::auth::error::AuthError;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::store::auth_events::Journal;
use crate::store::totp::Totp;
use crate::store::users::UserRow;

/// A fresh, pending enrolment: what the user puts into an authenticator app.
#[derive(Debug)]
pub struct Enrollment {
    /// The secret in base32, for typing in by hand.
    pub secret: SecretString,
    /// The `otpauth://` URL (it holds the secret), for a QR code.
    pub otpauth_url: SecretString,
}

/// Why `enrollTotp` / `confirmTotp` refuse when the account is not in the right state.
/// There is no argument at fault, so the field named is `totp`.
const ALREADY_ON: &str = "is already enabled: turn it off with disableTotp before enrolling again";
const NOTHING_PENDING: &str = "has no enrolment waiting for confirmation: call enrollTotp first";

pub struct TotpFactor {
    totp: Totp,
}

impl TotpFactor {
    pub fn new(totp: Totp) -> TotpFactor {
        TotpFactor { totp }
    }

    /// The second factor, for every flow that has just checked a password (`login`,
    /// `changePassword`, `disableTotp`). `Ok` when the account has TOTP off, whatever
    /// `otp` says. Otherwise `OtpRequired` without an `otp` (a blank one counts as none),
    /// and `InvalidOtp` unless it is a code of a time step later than the last one used
    /// (one step of drift either way), or an unspent recovery code. Accepting spends it.
    ///
    /// A stored secret that does not open (sealed by another key, or altered, or copied
    /// from another account's row) is an internal error, logged with the account id: no
    /// code is accepted, and the refusal is not counted against the owner, whose codes
    /// are not at fault.
    ///
    /// `account` is the row just read for the password check. Its TOTP flag changes in
    /// the same transaction as the `totp` row, so while it is off there is no secret to
    /// read, and a login without TOTP costs no query here.
    pub async fn check(
        &self,
        account: &UserRow,
        otp: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        if account.totp_enabled_at.is_none() {
            return Ok(());
        }
        let user_id = account.id;
        let Some(totp) = self
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
        let accepted = match PresentedOtp::parse(otp) {
            Some(PresentedOtp::Code(code)) => {
                let last_used = totp.last_used_step.and_then(|s| u64::try_from(s).ok());
                match TotpKey::from_stored(totp.secret.expose_secret())?
                    .matching_step(&code, now, last_used)
                {
                    Some(step) => self.totp.record_step(user_id, to_stored(step)?).await?,
                    None => false,
                }
            }
            Some(PresentedOtp::Recovery(code)) => {
                let spent = self
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

    /// Issues a fresh secret for the account named `account_name` and stores it as
    /// pending, replacing a pending one. Refused while TOTP is on.
    pub async fn enroll(
        &self,
        user_id: Uuid,
        account_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Enrollment, AuthError> {
        let key = TotpKey::generate(account_name)?;
        let secret = key.secret_base32();
        if !self.totp.enroll(user_id, &secret, now).await? {
            return Err(AuthError::bad_input("totp", ALREADY_ON));
        }
        tracing::info!(%user_id, "TOTP enrolment started");
        Ok(Enrollment {
            otpauth_url: key.otpauth_url()?,
            secret,
        })
    }

    /// Checks a code against the pending secret and turns TOTP on. Returns the recovery
    /// codes, as shown to the user: the only time they exist in the clear.
    pub async fn confirm(
        &self,
        user_id: Uuid,
        otp: &str,
        journal: &mut Journal,
        now: DateTime<Utc>,
    ) -> Result<Vec<SecretString>, AuthError> {
        let pending = self
            .totp
            .find(user_id)
            .await?
            .filter(|row| row.enabled_at.is_none())
            .ok_or_else(|| AuthError::bad_input("totp", NOTHING_PENDING))?;
        let Some(PresentedOtp::Code(code)) = PresentedOtp::parse(otp) else {
            return Err(AuthError::InvalidOtp);
        };
        let step = TotpKey::from_stored(pending.secret.expose_secret())?
            .matching_step(&code, now, None)
            .ok_or(AuthError::InvalidOtp)?;
        let codes = recovery_codes::generate_set();
        let hashes: Vec<String> = codes.iter().map(|c| c.hash().as_str().to_owned()).collect();
        // The confirming code's step counts as used, so it cannot log in afterwards.
        let enabled = self
            .totp
            .enable(&pending, to_stored(step)?, &hashes, journal, now)
            .await?;
        if !enabled {
            // Confirmed by a racing request with the same code, or re-enrolled meanwhile:
            // either way this code no longer confirms anything.
            return Err(AuthError::InvalidOtp);
        }
        tracing::info!(%user_id, "TOTP enabled");
        Ok(codes.iter().map(RecoveryCode::display).collect())
    }

    /// Turns TOTP off and deletes the recovery codes; `false` when it was not on (a
    /// pending enrolment is discarded all the same).
    pub async fn disable(&self, user_id: Uuid, journal: &mut Journal) -> Result<bool, AuthError> {
        let was_on = self.totp.disable(user_id, journal).await?;
        if was_on {
            tracing::info!(%user_id, "TOTP disabled");
        }
        Ok(was_on)
    }
}

fn to_stored(step: u64) -> Result<i64, AuthError> {
    i64::try_from(step).map_err(|_| AuthError::Internal(anyhow::anyhow!("time step out of range")))
}
