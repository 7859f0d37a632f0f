//! Two-factor authentication: enrolling an authenticator app, confirming it, turning it off.

use async_graphql::{Context, Object};

use crate::auth::secret::ExposeSecret as _;
use crate::graphql::context::{authenticator, principal, request_context, step_up};
use crate::graphql::errors::ApiError;
use crate::graphql::types::{Secret, TotpEnrollment};

#[derive(Default)]
pub struct TotpMutations;

#[Object]
impl TotpMutations {
    /// Starts turning on TOTP: returns a fresh secret to put into an authenticator app.
    /// Nothing changes at login until `confirmTotp`. Enrolling again before confirming
    /// replaces the secret; while TOTP is on it is refused (`BAD_USER_INPUT`). Requires a
    /// logged-in session (not a personal token) that authenticated recently (within
    /// `reauth_window`, see `reauthenticate`), or `password` given here; otherwise
    /// `REAUTH_REQUIRED`.
    async fn enroll_totp(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            secret,
            desc = "Your password, when the session did not authenticate recently (see `reauthenticate`)."
        )]
        password: Option<Secret>,
        #[graphql(
            secret,
            desc = "With `password`, when TOTP is on: a current code or a recovery code."
        )]
        otp: Option<Secret>,
    ) -> Result<TotpEnrollment, ApiError> {
        let who = principal(ctx).await?;
        Ok(authenticator(ctx)?
            .enroll_totp(&who, step_up(ctx, password, otp)?)
            .await?
            .into())
    }

    /// Turns TOTP on with a code from the app enrolled by `enrollTotp`; from then on
    /// `login` needs `otp`. Returns 10 single-use recovery codes, each usable as `otp` in
    /// place of a code: this is the only time they are shown. A wrong code is
    /// `INVALID_OTP`. Requires a session that authenticated recently (within
    /// `reauth_window`, see `reauthenticate`), or `password` given here; otherwise
    /// `REAUTH_REQUIRED`.
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The 6-digit code the authenticator app shows now.")] otp: Secret,
        #[graphql(
            secret,
            desc = "Your password, when the session did not authenticate recently (see `reauthenticate`)."
        )]
        password: Option<Secret>,
    ) -> Result<Vec<String>, ApiError> {
        let who = principal(ctx).await?;
        let codes = authenticator(ctx)?
            .confirm_totp(
                &who,
                &otp.into_inner(),
                step_up(ctx, password, None)?,
                &request_context(ctx)?.client,
            )
            .await?;
        // The answer is the one place the codes are shown.
        Ok(codes
            .iter()
            .map(|code| code.expose_secret().to_owned())
            .collect())
    }

    /// Turns TOTP off and deletes the recovery codes. Needs the password
    /// (`UNAUTHENTICATED` if wrong) and a current code or a recovery code (`INVALID_OTP`
    /// if wrong). Returns `false` when TOTP was not on. Requires authentication; the
    /// password and code are the recent authentication it needs, so it works however long
    /// ago the session logged in.
    async fn disable_totp(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "Your password.")] password: Secret,
        #[graphql(secret, desc = "A current code from the app, or a recovery code.")] otp: Secret,
    ) -> Result<bool, ApiError> {
        let who = principal(ctx).await?;
        let client = &request_context(ctx)?.client;
        Ok(authenticator(ctx)?
            .disable_totp(&who, password.into_inner(), &otp.into_inner(), client)
            .await?)
    }
}
