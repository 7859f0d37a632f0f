//! Two-factor authentication with TOTP (RFC 6238) and recovery codes.
//!
//! An account enrols (a pending secret), confirms with a code from its app (TOTP is on,
//! recovery codes are handed out once), and from then on every flow that checks the
//! password also checks the second factor (`factor::TotpFactor::check`).

pub mod enrollment;
pub mod factor;
pub mod key;
mod otp;
pub mod recovery_codes;
