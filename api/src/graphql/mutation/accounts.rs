//! Creating accounts.

use async_graphql::{Context, Object};

use crate::auth::account::Role;
use crate::auth::service::RegisterRequest;
use crate::graphql::context::authenticator;
use crate::graphql::errors::ApiError;
use crate::graphql::types::{RegisterInput, User};

#[derive(Default)]
pub struct AccountMutations;

#[Object]
impl AccountMutations {
    /// Creates an account (when sign-up is enabled). Does not log in: call `login` next.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<User, ApiError> {
        let account = authenticator(ctx)?
            .register(RegisterRequest {
                username: input.username,
                email: input.email,
                password: input.password,
                firstname: input.firstname,
                lastname: input.lastname,
                role: Role::User,
            })
            .await?;
        Ok(account.into())
    }
}
