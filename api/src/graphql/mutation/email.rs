//! Accounts by email: proving an address, resetting a forgotten password, changing the
//! address.

use async_graphql::{Context, Object};

use crate::auth::email::reset::ResetPasswordRequest;
use crate::graphql::context::{
    authenticator, optional_principal, principal, request_context, step_up,
};
use crate::graphql::errors::ApiError;
use crate::graphql::types::Secret;

#[derive(Default)]
pub struct EmailMutations;

#[Object]
impl EmailMutations {
    /// Sends the caller's email address a fresh verification link
    /// (`public_url/verify-email#token=...`) and the same secret as an 8-character code;
    /// earlier links and codes stop working. Returns `false` when the address is verified
    /// already; `BAD_USER_INPUT` when the account has no address. Mail is sent in the
    /// background; at most `mail_per_address_per_hour` per address (more requests still
    /// answer `true` and send nothing). Requires authentication.
    async fn request_email_verification(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        let who = principal(ctx).await?;
        let ip = request_context(ctx)?.client.ip.clone();
        Ok(authenticator(ctx)?
            .request_email_verification(&who, ip.as_deref())
            .await?)
    }

    /// Marks the address verified (`User.emailVerified`). `token` is the token from the
    /// link's fragment (the frontend page POSTs it: opening the link spends nothing), or
    /// the 8-character code from the same mail, which is accepted only with the access
    /// token of its account, and only until five wrong codes. An invalid, spent or expired
    /// token or code is `UNAUTHENTICATED`.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The token from the link, or the code from the mail.")]
        token: Secret,
    ) -> Result<bool, ApiError> {
        let caller = optional_principal(ctx).await?;
        authenticator(ctx)?
            .verify_email(
                caller.as_ref(),
                &token.into_inner(),
                &request_context(ctx)?.client,
            )
            .await?;
        Ok(true)
    }

    /// Sends a password-reset link (`public_url/reset-password#token=...`) to the address,
    /// if an account has it. Always answers `true`, in the same time, whether or not one
    /// does (and whether or not the hourly limits let the mail through): the answer tells
    /// nothing about which addresses have accounts. A malformed address is
    /// `BAD_USER_INPUT`.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email address (any letter case).")] email: String,
    ) -> Result<bool, ApiError> {
        let ip = request_context(ctx)?.client.ip.clone();
        Ok(authenticator(ctx)?
            .request_password_reset(&email, ip.as_deref())
            .await?)
    }

    /// Sets a new password with the token from a reset link. The new password follows the
    /// password rules; `otp` (a current code or a recovery code) is needed when TOTP is on
    /// (`OTP_REQUIRED` / `INVALID_OTP`, and the link stays usable). Ends every session and
    /// personal token of the account and clears its lock. A token works once (of
    /// simultaneous uses exactly one succeeds) and only for `reset_token_ttl`; a newer
    /// request voids it. An invalid, spent or expired token is `UNAUTHENTICATED`. Does not
    /// log in: call `login` next.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The token from the reset link's fragment.")] token: Secret,
        #[graphql(secret, desc = "The new password.")] new_password: Secret,
        #[graphql(secret, desc = "The current one-time password, when TOTP is on.")] otp: Option<
            Secret,
        >,
    ) -> Result<bool, ApiError> {
        let client = request_context(ctx)?.client.clone();
        authenticator(ctx)?
            .reset_password(ResetPasswordRequest {
                token: token.into_inner(),
                new_password: new_password.into_inner(),
                otp: otp.map(Secret::into_inner),
                client,
            })
            .await?;
        Ok(true)
    }

    /// Asks to change your email address to `newEmail`. Sends a confirmation link
    /// (`public_url/confirm-email-change#token=...`) to the new address and a notice to
    /// the current one (if it is verified); the address changes only when the link is
    /// confirmed (`confirmEmailChange`). Answers `true` whether or not another account has
    /// the new address (its owner gets a note instead, and nothing changes) and whether or
    /// not the hourly mail limits let the mails through. A newer request voids the link of
    /// an older one; changing the password voids it too. Needs a recent authentication: a
    /// session that logged in (or called `reauthenticate`) within `reauth_window`, or
    /// `password` (and `otp`) given here; otherwise `REAUTH_REQUIRED`. A malformed address,
    /// or the account's current one, is `BAD_USER_INPUT`.
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new address (any letter case).")] new_email: String,
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
    ) -> Result<bool, ApiError> {
        let who = principal(ctx).await?;
        Ok(authenticator(ctx)?
            .change_email(&who, &new_email, step_up(ctx, password, otp)?)
            .await?)
    }

    /// Makes the address an email-change link was sent to the account's address, verified.
    /// `token` is the token from the link's fragment (the frontend page POSTs it: opening
    /// the link spends nothing); no login is needed. A token works once (of simultaneous
    /// uses exactly one succeeds) and only for `verify_token_ttl`. An invalid, spent,
    /// voided or expired token is `UNAUTHENTICATED`; `CONFLICT` when another account took
    /// the address after the link was sent (the link stays usable until it expires).
    async fn confirm_email_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The token from the confirmation link's fragment.")] token: Secret,
    ) -> Result<bool, ApiError> {
        authenticator(ctx)?
            .confirm_email_change(&token.into_inner(), &request_context(ctx)?.client)
            .await?;
        Ok(true)
    }
}
