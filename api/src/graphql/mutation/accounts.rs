//! Creating accounts.

use async_graphql::{Context, Object};

use crate::auth::accounts::account::Role;
use crate::auth::accounts::registration::RegisterRequest;
use crate::auth::passwords::change::ChangePasswordRequest;
use crate::graphql::context::{authenticator, optional_principal, request_context};
use crate::graphql::errors::ApiError;
use crate::graphql::types::{ChangePasswordInput, RegisterInput, Secret, User};

#[derive(Default)]
pub struct AccountMutations;

#[Object]
impl AccountMutations {
    /// Creates an account (when sign-up is enabled). Does not log in: call `login` next.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account: username, password, and optional email and names.")]
        input: RegisterInput,
    ) -> Result<User, ApiError> {
        let account = authenticator(ctx)?
            .register(
                RegisterRequest {
                    username: input.username,
                    email: input.email,
                    password: input.password.into_inner(),
                    firstname: input.firstname,
                    lastname: input.lastname,
                    role: Role::User,
                },
                &request_context(ctx)?.client,
            )
            .await?;
        Ok(account.into())
    }

    /// Changes a password, also one that has expired. Needs the current password (and
    /// `otp` when TOTP is on). Ends every other session of the account; the session making
    /// the change stays logged in.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password, and the account when not logged in.")]
        input: ChangePasswordInput,
    ) -> Result<bool, ApiError> {
        let caller = optional_principal(ctx).await?;
        authenticator(ctx)?
            .change_password(
                caller.as_ref(),
                ChangePasswordRequest {
                    username: input.username,
                    email: input.email,
                    current_password: input.current_password.into_inner(),
                    new_password: input.new_password.into_inner(),
                    otp: input.otp.map(Secret::into_inner),
                    end_personal_tokens: input.end_personal_tokens.unwrap_or(true),
                    client: request_context(ctx)?.client.clone(),
                },
            )
            .await?;
        Ok(true)
    }
}
