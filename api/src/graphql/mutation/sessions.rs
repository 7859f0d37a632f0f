//! Logging in, refreshing and logging out.

use async_graphql::{Context, ID, Object};

use crate::auth::AuthError;
use crate::auth::sessions::issued::SessionTokens;
use crate::auth::sessions::login::LoginRequest;
use crate::auth::sessions::logout::LogoutTarget;
use crate::auth::sessions::refresh::RefreshSource;
use crate::graphql::context::{
    IssuedTokens, TokenDelivery, authenticator, optional_principal, principal, request_context,
};
use crate::graphql::errors::ApiError;
use crate::graphql::types::{AuthPayload, LoginInput, Secret, Session, TokenMode};

#[derive(Default)]
pub struct SessionMutations;

#[Object]
impl SessionMutations {
    /// Logs in with exactly one of username or email, and the password. Opens a session
    /// and returns its tokens, delivered as `mode` says.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Exactly one of username or email, the password, and the token mode.")]
        input: LoginInput,
    ) -> Result<AuthPayload, ApiError> {
        let request = request_context(ctx)?;
        let tokens = authenticator(ctx)?
            .login(LoginRequest {
                username: input.username,
                email: input.email,
                password: input.password.into_inner(),
                otp: input.otp.map(Secret::into_inner),
                passkey: input.passkey.map(|json| json.0),
                mode: input.mode.unwrap_or(TokenMode::Json).into(),
                client: request.client.clone(),
                device_cookie: request.device_cookie.clone(),
            })
            .await?;
        issue(ctx, &tokens)
    }

    /// Exchanges a refresh token (the argument, else the refresh cookie) for new tokens.
    /// The refresh token is rotated: the one presented stops working. Without `mode`, the
    /// answer uses the mode the session was opened with.
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The refresh token; omit it to use the refresh cookie.")]
        refresh_token: Option<Secret>,
        #[graphql(desc = "How to deliver the new tokens; defaults to the session's mode.")]
        mode: Option<TokenMode>,
    ) -> Result<AuthPayload, ApiError> {
        let request = request_context(ctx)?;
        let (presented, source) = match refresh_token {
            Some(token) => (token.into_inner(), RefreshSource::Argument),
            None => (
                request
                    .refresh_cookie
                    .clone()
                    .ok_or(AuthError::Unauthenticated("refresh token required"))?,
                RefreshSource::Cookie,
            ),
        };
        let tokens = authenticator(ctx)?
            .refresh(&presented, source, mode.map(Into::into), &request.client)
            .await?;
        issue(ctx, &tokens)
    }

    /// Ends a session: the one of the refresh token given (argument, else the refresh
    /// cookie, else the session of the access token in use). Returns whether a session was
    /// ended. Always expires the token cookies.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "The refresh token of the session to end.")] refresh_token: Option<
            Secret,
        >,
        #[graphql(
            default_with = "Some(false)",
            desc = "End every session of the same user, on every device."
        )]
        all_sessions: Option<bool>,
        #[graphql(
            default_with = "Some(false)",
            desc = "With `allSessions`, also delete every personal token (auth header) of the user."
        )]
        end_personal_tokens: Option<bool>,
    ) -> Result<bool, ApiError> {
        let request = request_context(ctx)?;
        request.deliver(TokenDelivery::ClearCookies);
        let presented = refresh_token
            .map(Secret::into_inner)
            .or_else(|| request.refresh_cookie.clone());
        let target = match presented {
            Some(token) => LogoutTarget::RefreshToken(token),
            None => match optional_principal(ctx).await? {
                Some(who) => match who.session_id() {
                    Some(session_id) => LogoutTarget::Session(session_id),
                    // A personal token has no session to end.
                    None => LogoutTarget::Nothing,
                },
                None => LogoutTarget::Nothing,
            },
        };
        Ok(authenticator(ctx)?
            .logout(
                target,
                all_sessions.unwrap_or(false),
                end_personal_tokens.unwrap_or(false),
                &request.client,
            )
            .await?)
    }

    /// Proves again, inside the current session, that you are its user: the password,
    /// and `otp` when TOTP is on (`OTP_REQUIRED` without it, `INVALID_OTP` if wrong).
    /// Moves the session's `authenticatedAt` to now, so operations that need a recent
    /// authentication (`addAuthHeader`, `enrollTotp`, `confirmTotp`) work again for
    /// `reauth_window`; no new session, no new tokens. A wrong password is
    /// `UNAUTHENTICATED` and counts toward the account lock, as at login. Needs the access
    /// token of a login session (a personal token has no session: `FORBIDDEN`).
    async fn reauthenticate(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret, desc = "Your password.")] password: Secret,
        #[graphql(
            secret,
            desc = "When TOTP is on: a current code from the app, or a recovery code."
        )]
        otp: Option<Secret>,
    ) -> Result<Session, ApiError> {
        let who = principal(ctx).await?;
        let client = &request_context(ctx)?.client;
        let session = authenticator(ctx)?
            .reauthenticate(
                &who,
                password.into_inner(),
                otp.map(Secret::into_inner),
                client,
            )
            .await?;
        Ok(session.into())
    }

    /// Ends one of your sessions (see `sessions`): its refresh token and access tokens stop
    /// working at once. Returns `false` for an id that is unknown, already ended, or not
    /// yours. Requires authentication.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's id, from `sessions`.")] id: ID,
    ) -> Result<bool, ApiError> {
        let who = principal(ctx).await?;
        let client = &request_context(ctx)?.client;
        Ok(authenticator(ctx)?
            .revoke_session(&who, &id, client)
            .await?)
    }
}

/// Records the tokens for delivery and builds the body.
pub(super) fn issue(ctx: &Context<'_>, tokens: &SessionTokens) -> Result<AuthPayload, ApiError> {
    let auth = authenticator(ctx)?;
    // `access_token_ttl` is validated to at most 24 h, so milliseconds fit an i32.
    let ttl_ms = i32::try_from(auth.access_token_ttl().as_millis()).unwrap_or(i32::MAX);
    request_context(ctx)?.deliver(TokenDelivery::Issue(IssuedTokens {
        mode: tokens.mode,
        issued_at: tokens.access.issued_at,
        access_token: tokens.access.token.clone(),
        access_expires_at: tokens.access.expires_at,
        refresh_token: tokens.refresh.expose().into(),
        session_expires_at: tokens.session_expires_at,
        device: tokens.device.clone(),
    }));
    Ok(AuthPayload::new(tokens, ttl_ms))
}
