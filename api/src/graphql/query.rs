use async_graphql::{Context, Object};

use super::context::{authenticator, principal};
use super::errors::ApiError;
use super::types::{AuthHeader, AuthPolicy, Passkey, Session, User};

/// Read operations.
#[derive(Default)]
pub struct Query;

/// Read operations.
#[Object]
impl Query {
    /// The account of the access token in use. Requires authentication.
    async fn me(&self, ctx: &Context<'_>) -> Result<User, ApiError> {
        let who = principal(ctx).await?;
        Ok(who.account.as_ref().clone().into())
    }

    /// An account by username (any letter case): your own, or anyone's if you are an
    /// admin (null if there is none); anyone else's is `FORBIDDEN`. Requires
    /// authentication.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username, in any letter case.")] username: String,
    ) -> Result<Option<User>, ApiError> {
        let who = principal(ctx).await?;
        let account = authenticator(ctx)?
            .user_by_username(&who, &username)
            .await?;
        Ok(account.map(Into::into))
    }

    /// The rules in force, so a frontend can show them before it submits. Public.
    async fn auth_policy(&self, ctx: &Context<'_>) -> Result<AuthPolicy, ApiError> {
        Ok(authenticator(ctx)?.published_policy().into())
    }

    /// Your personal tokens ("auth headers"), newest first, expired ones included; never
    /// the tokens themselves. Requires authentication.
    async fn auth_headers(&self, ctx: &Context<'_>) -> Result<Vec<AuthHeader>, ApiError> {
        let who = principal(ctx).await?;
        let headers = authenticator(ctx)?.personal_tokens(&who).await?;
        Ok(headers.into_iter().map(Into::into).collect())
    }

    /// Your live sessions (logged in and neither logged out, revoked nor expired), newest
    /// first; `current` marks the one making this request. Requires authentication.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>, ApiError> {
        let who = principal(ctx).await?;
        let sessions = authenticator(ctx)?.sessions(&who).await?;
        Ok(sessions.into_iter().map(Into::into).collect())
    }

    /// Your passkeys, oldest first. Requires authentication.
    async fn passkeys(&self, ctx: &Context<'_>) -> Result<Vec<Passkey>, ApiError> {
        let who = principal(ctx).await?;
        let passkeys = authenticator(ctx)?.passkeys(&who).await?;
        Ok(passkeys.into_iter().map(Into::into).collect())
    }
}
