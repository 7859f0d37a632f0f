use async_graphql::{Context, Object};

use super::context::{authenticator, principal};
use super::errors::ApiError;
use super::types::User;

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
}
