//! The TOTP shared secret (RFC 6238) and the codes it makes: what authenticator apps
//! expect (HMAC-SHA1, 6 digits, 30-second steps), one step of clock drift either way.
//!
//! The arithmetic is `totp-rs`'s; this module adds what the crate leaves to its caller:
//! time comes from our clock, and a code is accepted only for a step later than the last
//! one used, so each code works once (RFC 6238 section 5.2).

use std::fmt;

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::auth::error::AuthError;
use crate::auth::secret::{ExposeSecret as _, SecretString};

/// The issuer an authenticator app shows above the account name.
pub const ISSUER: &str = "Latchkey";
/// Seconds per time step.
pub const STEP_SECONDS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u8 = 6;
/// Steps of clock drift accepted either side of the current one.
pub const DRIFT_STEPS: u64 = 1;
/// 160 bits: the HMAC-SHA1 block-size key RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// A TOTP secret. `Debug` never shows it.
pub struct TotpKey {
    totp: Totp,
}

impl TotpKey {
    /// A fresh random secret for the account `account_name`.
    pub fn generate(account_name: &str) -> Result<TotpKey, AuthError> {
        let bytes: [u8; SECRET_BYTES] = rand::random();
        let totp = builder(Secret::from(bytes))
            .with_account_name(account_name)
            .with_issuer(Some(ISSUER))
            .build()
            .map_err(|e| AuthError::Internal(anyhow::anyhow!("building a TOTP key: {e}")))?;
        Ok(TotpKey { totp })
    }

    /// A stored secret (base32), to check codes with.
    pub fn from_stored(base32: &str) -> Result<TotpKey, AuthError> {
        let secret = Secret::try_from_base32(base32).map_err(|_| {
            AuthError::Internal(anyhow::anyhow!("stored TOTP secret is not base32"))
        })?;
        let totp = builder(secret)
            .build()
            .map_err(|e| AuthError::Internal(anyhow::anyhow!("stored TOTP secret: {e}")))?;
        Ok(TotpKey { totp })
    }

    /// The secret in base32 (RFC 4648, no padding): what a person types into an app that
    /// cannot scan, and what is stored.
    pub fn secret_base32(&self) -> SecretString {
        self.totp.secret().to_base32().into()
    }

    /// The `otpauth://totp/Latchkey:<account>?secret=...&issuer=Latchkey&...` URL an app
    /// scans (as a QR code). The parameters that are also the defaults are spelled out, so
    /// no app has to guess.
    pub fn otpauth_url(&self) -> Result<SecretString, AuthError> {
        let url =
            SecretString::from(self.totp.to_url().map_err(|e| {
                AuthError::Internal(anyhow::anyhow!("building the otpauth URL: {e}"))
            })?);
        Ok(format!(
            "{}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            url.expose_secret()
        )
        .into())
    }

    /// The time step (seconds since the epoch / 30) whose code `code` is, looking at the
    /// current step and one either side, and only at steps later than `after` (the last
    /// step used). The earliest such step wins, so a code never moves the mark further
    /// than it has to. `None` if `code` is none of them.
    pub fn matching_step(&self, code: &str, now: DateTime<Utc>, after: Option<u64>) -> Option<u64> {
        let current = u64::try_from(now.timestamp()).ok()? / STEP_SECONDS;
        (current.saturating_sub(DRIFT_STEPS)..=current.saturating_add(DRIFT_STEPS))
            .filter(|step| after.is_none_or(|last| *step > last))
            // With no skew of its own, `check` compares against exactly this step, in
            // constant time.
            .find(|step| self.totp.check(code, step * STEP_SECONDS).is_some())
    }

    /// The code for a time step (tests, and nothing else, need to make codes).
    #[cfg(test)]
    pub fn code_at(&self, step: u64) -> String {
        self.totp.generate(step * STEP_SECONDS).to_string()
    }
}

impl fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpKey([redacted])")
    }
}

fn builder(secret: Secret) -> Builder {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        // Drift is handled in `matching_step`, which also knows the last step used.
        .with_skew(0)
        .with_secret(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone as _;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    /// RFC 6238 appendix B's SHA-1 key: ASCII "12345678901234567890".
    const RFC_KEY_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // Appendix B gives 8 digits; 6-digit codes are their last 6.
        let key = TotpKey::from_stored(RFC_KEY_BASE32).unwrap();
        for (time, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let code = &eight_digits[2..];
            let step = u64::try_from(time).unwrap() / STEP_SECONDS;
            assert_eq!(key.code_at(step), code, "t = {time}");
            assert_eq!(key.matching_step(code, at(time), None), Some(step));
        }
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted_and_two_are_not() {
        let key = TotpKey::generate("alice").unwrap();
        let now = at(1_800_000_015);
        let current = 1_800_000_015 / STEP_SECONDS;
        for step in [current - 1, current, current + 1] {
            assert_eq!(key.matching_step(&key.code_at(step), now, None), Some(step));
        }
        for step in [current - 2, current + 2] {
            let code = key.code_at(step);
            // A code of a far step could collide with a near one's (1 in a million).
            let collides = [current - 1, current, current + 1]
                .iter()
                .any(|near| key.code_at(*near) == code);
            if !collides {
                assert_eq!(key.matching_step(&code, now, None), None);
            }
        }
    }

    #[test]
    fn only_steps_later_than_the_last_used_are_accepted() {
        let key = TotpKey::generate("alice").unwrap();
        let now = at(1_800_000_015);
        let current = 1_800_000_015 / STEP_SECONDS;
        let previous = key.code_at(current - 1);
        assert_eq!(
            key.matching_step(&previous, now, Some(current - 2)),
            Some(current - 1)
        );
        assert_eq!(key.matching_step(&previous, now, Some(current - 1)), None);
        assert_eq!(key.matching_step(&previous, now, Some(current)), None);
        assert_eq!(
            key.matching_step(&key.code_at(current + 1), now, Some(current)),
            Some(current + 1)
        );
    }

    #[test]
    fn malformed_codes_match_nothing() {
        let key = TotpKey::generate("alice").unwrap();
        let now = at(1_800_000_015);
        let right = key.code_at(1_800_000_015 / STEP_SECONDS);
        for bad in [
            "",
            "12345",
            "1234567",
            "abcdef",
            &format!("+{}", &right[1..]),
        ] {
            assert_eq!(key.matching_step(bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn the_secret_is_160_bits_of_base32_and_round_trips() {
        let key = TotpKey::generate("alice").unwrap();
        let secret = key.secret_base32().expose_secret().to_owned();
        assert_eq!(secret.len(), 32);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        let stored = TotpKey::from_stored(&secret).unwrap();
        assert_eq!(stored.code_at(1000), key.code_at(1000));
        assert_ne!(
            TotpKey::generate("alice")
                .unwrap()
                .secret_base32()
                .expose_secret()
                .to_owned(),
            secret
        );
    }

    #[test]
    fn the_otpauth_url_names_issuer_account_and_parameters() {
        let key = TotpKey::generate("alice.smith").unwrap();
        let url = key.otpauth_url().unwrap().expose_secret().to_owned();
        assert_eq!(
            url,
            format!(
                "otpauth://totp/Latchkey:alice.smith?secret={}&issuer=Latchkey\
                 &algorithm=SHA1&digits=6&period=30",
                key.secret_base32().expose_secret().to_owned()
            )
        );
    }

    #[test]
    fn account_names_are_percent_encoded_in_the_url() {
        let key = TotpKey::generate("a b@c/d").unwrap();
        let url = key.otpauth_url().unwrap().expose_secret().to_owned();
        assert!(
            url.starts_with("otpauth://totp/Latchkey:a%20b%40c%2Fd?"),
            "{url}"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = TotpKey::generate("alice").unwrap();
        assert!(!format!("{key:?}").contains(&key.secret_base32().expose_secret().to_owned()));
    }
}
