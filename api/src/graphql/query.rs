use async_graphql::{Context, Object};

use super::context::{authenticator, principal};
use super::errors::ApiError;
use super::types::{AuthEventConnection, AuthEventFilter, AuthHeader, AuthPolicy, Session, User};
use crate::auth::AuthError;
use crate::store::auth_events::EventFilter;

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

    /// Your own security events (logins, failed logins, sessions ended, password and
    /// factor changes, personal tokens...), newest first, a page at a time: `first`
    /// (1 to 100, default 20) events after the cursor `after` (an `endCursor` from an
    /// earlier page). Requires authentication.
    async fn my_auth_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many events, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor`).")] after: Option<
            String,
        >,
    ) -> Result<AuthEventConnection, ApiError> {
        let who = principal(ctx).await?;
        let page = authenticator(ctx)?
            .my_events(&who, first, after.as_deref())
            .await?;
        Ok(page.into())
    }

    /// Every account's security events matching `filter`, newest first, a page at a time
    /// as in `myAuthEvents`. Admins only, from a login session: anyone else, and any
    /// personal token, gets `FORBIDDEN`.
    async fn auth_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events; all when absent.")] filter: Option<AuthEventFilter>,
        #[graphql(desc = "How many events, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor`).")] after: Option<
            String,
        >,
    ) -> Result<AuthEventConnection, ApiError> {
        let who = principal(ctx).await?;
        let filter = event_filter(filter.unwrap_or_default())?;
        let page = authenticator(ctx)?
            .all_events(&who, filter, first, after.as_deref())
            .await?;
        Ok(page.into())
    }
}

fn event_filter(filter: AuthEventFilter) -> Result<EventFilter, ApiError> {
    let user_id = filter
        .user_id
        .map(|id| {
            uuid::Uuid::parse_str(id.trim())
                .map_err(|_| AuthError::bad_input("filter.userId", "is not a user id"))
        })
        .transpose()?;
    Ok(EventFilter {
        user_id,
        kind: filter.kind.map(Into::into),
        from: filter.from.map(|t| t.0),
        until: filter.until.map(|t| t.0),
    })
}
