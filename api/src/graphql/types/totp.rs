use async_graphql::SimpleObject;

use crate::auth::secret::ExposeSecret as _;
use crate::auth::totp::factor::Enrollment;

/// A TOTP secret waiting for confirmation: put it into an authenticator app (scan
/// `otpauthUrl` as a QR code, or type `secret`), then call `confirmTotp` with a code the
/// app shows.
// No `Debug`: it holds the secret, as the answer must.
#[derive(SimpleObject)]
pub struct TotpEnrollment {
    /// The shared secret in base32 (RFC 4648, no padding), for apps that cannot scan.
    pub secret: String,
    /// `otpauth://totp/Latchkey:<username>?secret=...&issuer=Latchkey&algorithm=SHA1&digits=6&period=30`,
    /// the URL an authenticator app reads from a QR code.
    pub otpauth_url: String,
}

impl From<Enrollment> for TotpEnrollment {
    fn from(enrollment: Enrollment) -> Self {
        TotpEnrollment {
            secret: enrollment.secret.expose_secret().to_owned(),
            otpauth_url: enrollment.otpauth_url.expose_secret().to_owned(),
        }
    }
}
