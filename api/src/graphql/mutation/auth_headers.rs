//! Making and deleting personal tokens ("auth headers").

use async_graphql::{Context, ID, Object};

use crate::auth::AuthError;
use crate::auth::personal_tokens::management::PersonalTokenRef;
use crate::graphql::context::{authenticator, principal, request_context, step_up};
use crate::graphql::errors::ApiError;
use crate::graphql::types::{DateTime, NewAuthHeader, Secret};

#[derive(Default)]
pub struct AuthHeaderMutations;

#[Object]
impl AuthHeaderMutations {
    /// Makes a personal token that acts as you in the `Authorization` header, until you
    /// delete it or it expires. The token is in the answer and nowhere else, ever.
    /// Requires a logged-in session (a personal token cannot make another); at most 50
    /// live ones per user. Every token expires: at `expiresAt`, or at the server's longest
    /// lifetime (`auth_header_max_ttl`, a year by default) if that comes sooner or
    /// `expiresAt` is left out; `authHeader.expiresAt` in the answer says which.
    /// Needs a recent authentication: a session that logged in (or called
    /// `reauthenticate`) within `reauth_window`, or `password` (and `otp`) given here;
    /// otherwise `REAUTH_REQUIRED`.
    async fn add_auth_header(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your label for it: 1 to 100 characters, unique among yours.")]
        name: String,
        #[graphql(
            desc = "When it stops working (in the future); omit it for the longest lifetime allowed."
        )]
        expires_at: Option<DateTime>,
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
    ) -> Result<NewAuthHeader, ApiError> {
        let who = principal(ctx).await?;
        let new = authenticator(ctx)?
            .add_personal_token(
                &who,
                &name,
                expires_at.map(|at| at.0),
                step_up(ctx, password, otp)?,
                &request_context(ctx)?.client,
            )
            .await?;
        Ok(new.into())
    }

    /// Deletes one of your personal tokens, by exactly one of `id` or `token`; it stops
    /// working at once. Returns `false` for one that does not exist or is not yours.
    async fn delete_auth_header(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The auth header's id, from `authHeaders`.")] id: Option<ID>,
        #[graphql(secret, desc = "The token itself (`lk_...`).")] token: Option<Secret>,
    ) -> Result<bool, ApiError> {
        let who = principal(ctx).await?;
        let target = match (id, token) {
            (Some(id), None) => PersonalTokenRef::Id(id.0),
            (None, Some(token)) => PersonalTokenRef::Token(token.into_inner()),
            (Some(_), Some(_)) | (None, None) => {
                return Err(AuthError::bad_input("id", "give exactly one of id or token").into());
            }
        };
        Ok(authenticator(ctx)?
            .delete_personal_token(&who, target, &request_context(ctx)?.client)
            .await?)
    }
}
