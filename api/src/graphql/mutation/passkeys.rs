//! Passkeys: registering one, logging in with one, renaming and deleting them.
//!
//! The WebAuthn options and responses travel as `JSON`, exactly as the browser's
//! `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`
//! take them and `PublicKeyCredential.toJSON()` gives them, so a frontend passes them
//! through untouched.

use async_graphql::{Context, ID, Json, Object};
use uuid::Uuid;

use super::sessions::issue;
use crate::auth::AuthError;
use crate::auth::passkeys::login::PasskeyLoginRequest;
use crate::auth::passkeys::signup::{PasskeySignupFinish, PasskeySignupRequest};
use crate::graphql::context::{authenticator, principal, request_context, step_up};
use crate::graphql::errors::ApiError;
use crate::graphql::types::{AuthPayload, Passkey, PasskeySignupInput, Secret, TokenMode};

#[derive(Default)]
pub struct PasskeyMutations;

fn passkey_id(id: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.trim()).map_err(|_| AuthError::bad_input("id", "is not a passkey id").into())
}

#[Object]
impl PasskeyMutations {
    /// Starts registering a passkey for your account. Returns the
    /// `PublicKeyCredentialCreationOptions` as JSON: give them to
    /// `PublicKeyCredential.parseCreationOptionsFromJSON`, then to
    /// `navigator.credentials.create({publicKey})`, and send the credential's `toJSON()`
    /// to `finishPasskeyRegistration` within 2 minutes. Asks for a discoverable credential
    /// (so a login needs no username) and user verification. Requires a logged-in session
    /// that authenticated recently (within `reauth_window`), or `password` (and `otp`)
    /// given here; otherwise `REAUTH_REQUIRED`.
    async fn start_passkey_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "A name for the passkey, to tell it apart in `passkeys` (1 to 64 characters)."
        )]
        name: String,
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
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let who = principal(ctx).await?;
        let options = authenticator(ctx)?
            .start_passkey_registration(&who, &name, step_up(ctx, password, otp)?)
            .await?;
        Ok(Json(options))
    }

    /// Finishes a registration started by `startPasskeyRegistration` with the created
    /// credential's `toJSON()`, and returns the new passkey. A response whose challenge
    /// is unknown, used, expired or another account's, or that fails verification
    /// (origin, RP id, signature, user verification) is `UNAUTHENTICATED`; a credential
    /// registered already is `CONFLICT`. Requires authentication (the same account).
    async fn finish_passkey_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "`credential.toJSON()` of the credential `navigator.credentials.create` made."
        )]
        response: Json<serde_json::Value>,
    ) -> Result<Passkey, ApiError> {
        let who = principal(ctx).await?;
        Ok(authenticator(ctx)?
            .finish_passkey_registration(&who, response.0)
            .await?
            .into())
    }

    /// Starts a passkey login. Returns the `PublicKeyCredentialRequestOptions` as JSON,
    /// for `PublicKeyCredential.parseRequestOptionsFromJSON` and
    /// `navigator.credentials.get({publicKey})`. Without `username` the browser offers the
    /// passkeys it holds for this site and the one chosen names the account; with a
    /// `username` whose account has passkeys, they are listed and only they are accepted.
    /// Finish within 2 minutes with `finishPasskeyLogin`.
    async fn start_passkey_login(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The account, when the user typed it; leave out for a discoverable login."
        )]
        username: Option<String>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let options = authenticator(ctx)?
            .start_passkey_login(username.as_deref())
            .await?;
        Ok(Json(options))
    }

    /// Finishes a passkey login with the assertion's `toJSON()`: opens a session and
    /// returns its tokens exactly as `login` does, in `mode`, with the same cookies. A
    /// passkey verifies its user, so it is both factors: no `OTP_REQUIRED`. Every refusal
    /// (unknown credential, another account's, a replayed or expired challenge, wrong
    /// origin or RP id, bad signature, counter gone backwards) is `UNAUTHENTICATED` and
    /// counts toward the account's lock like a wrong password; a locked account is
    /// `RATE_LIMITED`.
    async fn finish_passkey_login(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "`credential.toJSON()` of the credential `navigator.credentials.get` returned."
        )]
        response: Json<serde_json::Value>,
        #[graphql(
            default_with = "Some(TokenMode::Json)",
            desc = "How to deliver the tokens, as in `login`."
        )]
        mode: Option<TokenMode>,
    ) -> Result<AuthPayload, ApiError> {
        let request = request_context(ctx)?;
        let tokens = authenticator(ctx)?
            .finish_passkey_login(PasskeyLoginRequest {
                response: response.0,
                mode: mode.unwrap_or(TokenMode::Json).into(),
                client: request.client.clone(),
                device_cookie: request.device_cookie.clone(),
            })
            .await?;
        issue(ctx, &tokens)
    }

    /// Renames one of your passkeys. Returns `false` for an id that is unknown or not
    /// yours. Requires authentication.
    async fn rename_passkey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The passkey's id, from `passkeys`.")] id: ID,
        #[graphql(desc = "The new name (1 to 64 characters).")] name: String,
    ) -> Result<bool, ApiError> {
        let who = principal(ctx).await?;
        let id = passkey_id(&id)?;
        Ok(authenticator(ctx)?.rename_passkey(&who, id, &name).await?)
    }

    /// Deletes one of your passkeys: it stops working at once. Returns `false` for an id
    /// that is unknown or not yours. Requires a session that authenticated recently, or
    /// `password` (and `otp`) given here; otherwise `REAUTH_REQUIRED`.
    async fn delete_passkey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The passkey's id, from `passkeys`.")] id: ID,
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
        let id = passkey_id(&id)?;
        Ok(authenticator(ctx)?
            .delete_passkey(&who, id, step_up(ctx, password, otp)?)
            .await?)
    }

    /// Creates an account without a password, its only way in a passkey (when sign-up is
    /// enabled; `FORBIDDEN` otherwise). Checks the details as `register` does (a taken
    /// username or email is `CONFLICT`) and returns the creation options, as
    /// `startPasskeyRegistration` does; nothing is created until `finishPasskeySignup`.
    async fn start_passkey_signup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account: username, and optional email, names and passkey name.")]
        input: PasskeySignupInput,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let request = request_context(ctx)?;
        let options = authenticator(ctx)?
            .start_passkey_signup(
                PasskeySignupRequest {
                    username: input.username,
                    email: input.email,
                    firstname: input.firstname,
                    lastname: input.lastname,
                    passkey_name: input.passkey_name,
                },
                request.client.ip.as_deref(),
            )
            .await?;
        Ok(Json(options))
    }

    /// Finishes a passwordless sign-up with the created credential's `toJSON()`: creates
    /// the account and its passkey together and logs in, returning the tokens as `login`
    /// does in `mode` (unlike `register`, which does not log in: here the passkey has just
    /// proved possession and user verification). Refusals as in
    /// `finishPasskeyRegistration`.
    async fn finish_passkey_signup(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "`credential.toJSON()` of the credential `navigator.credentials.create` made."
        )]
        response: Json<serde_json::Value>,
        #[graphql(
            default_with = "Some(TokenMode::Json)",
            desc = "How to deliver the tokens, as in `login`."
        )]
        mode: Option<TokenMode>,
    ) -> Result<AuthPayload, ApiError> {
        let request = request_context(ctx)?;
        let tokens = authenticator(ctx)?
            .finish_passkey_signup(PasskeySignupFinish {
                response: response.0,
                mode: mode.unwrap_or(TokenMode::Json).into(),
                client: request.client.clone(),
                device_cookie: request.device_cookie.clone(),
            })
            .await?;
        issue(ctx, &tokens)
    }
}
