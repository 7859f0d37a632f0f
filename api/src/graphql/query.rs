use async_graphql::{Context, Object};

use super::context::{authenticator, principal};
use super::errors::ApiError;
use super::types::{AuthHeader, Session, User};

/// Read operations.
#[derive(Default)]
pub struct Query;

/// Read operations.
#[Object]
impl Query {
    /// The account of the access token in use. Requires authentication.
    async fn me(&self, ctx: &Context<'_>) -> Result<User, ApiError> {
        let who = principal(ctx).await?;
        let account = authenticator(ctx)?.account(who.user_id).await?;
        Ok(account.into())
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
}
