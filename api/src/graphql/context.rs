//! What the HTTP layer hands each GraphQL request, and what the request hands back.
//!
//! The HTTP layer extracts credentials without touching the database; a resolver that
//! needs the caller calls [`principal`], which checks the credential once per request and
//! memoises the answer. Token delivery (the `Authorization` response header, cookies) is
//! recorded here as [`TokenDelivery`] and written by the HTTP layer, so resolvers never
//! deal in HTTP.

use std::sync::{Arc, Mutex};

use async_graphql::Context;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::errors::ApiError;
use super::operation_metrics::ObservedOperation;
use crate::auth::AuthError;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::known_devices::registry::DeviceCookie;
use crate::auth::personal_tokens::ledger::PREFIX as PERSONAL_TOKEN_PREFIX;
use crate::auth::principal::Principal;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::sessions::step_up::StepUp;
use crate::auth::sessions::token_mode::TokenMode;

/// The credential a request carries, from the first source that has one.
#[derive(Clone)]
pub struct Credential {
    pub token: SecretString,
    pub source: CredentialSource,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    AuthorizationHeader,
    QueryParameter,
    Cookie,
}

/// Per-request input from the HTTP layer.
#[derive(Debug, Default)]
pub struct RequestContext {
    pub credential: Option<Credential>,
    /// Set when the `Authorization` header was present but not a usable bearer token.
    pub malformed_authorization: bool,
    /// The refresh cookie, if the browser sent one.
    pub refresh_cookie: Option<SecretString>,
    /// The known-device cookie, if the browser sent one (only `login` reads it).
    pub device_cookie: Option<SecretString>,
    /// The seed-compatible `identityId` header or query parameter.
    pub identity_id: Option<String>,
    pub client: ClientMeta,
    /// The operation's kind, noted when its document is parsed, for the request metrics.
    pub operation: ObservedOperation,
    principal: OnceCell<Result<Principal, Arc<AuthError>>>,
    delivery: Mutex<Option<TokenDelivery>>,
}

/// What the response must carry besides its body.
#[derive(Debug, Clone)]
pub enum TokenDelivery {
    /// Tokens issued by `login` or `refresh`, delivered as `mode` says.
    Issue(IssuedTokens),
    /// `logout`: expire both cookies.
    ClearCookies,
}

#[derive(Clone)]
pub struct IssuedTokens {
    pub mode: TokenMode,
    /// When the tokens were minted: cookie lifetimes count from here, so the access
    /// cookie's `Max-Age` is exactly the access token's lifetime.
    pub issued_at: DateTime<Utc>,
    pub access_token: SecretString,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: SecretString,
    pub session_expires_at: DateTime<Utc>,
    /// The device cookie to set, in every mode (`login` only).
    pub device: Option<DeviceCookie>,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    pub fn new(client: ClientMeta) -> RequestContext {
        RequestContext {
            client,
            ..RequestContext::default()
        }
    }

    /// Records what the response must deliver; a later call replaces an earlier one.
    pub fn deliver(&self, delivery: TokenDelivery) {
        if let Ok(mut slot) = self.delivery.lock() {
            *slot = Some(delivery);
        }
    }

    /// What the resolvers asked the response to deliver.
    pub fn take_delivery(&self) -> Option<TokenDelivery> {
        self.delivery.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Checks the credential now, once: later calls, and the resolvers' [`principal`],
    /// get the same answer. A WebSocket checks it at `connection_init`, before any
    /// operation runs.
    pub async fn authenticate(&self, auth: &Authenticator) -> Result<Principal, ApiError> {
        let outcome = self
            .principal
            .get_or_init(|| async { self.resolve(auth).await.map_err(Arc::new) })
            .await;
        outcome.clone().map_err(|e| ApiError::from(e.as_ref()))
    }

    async fn resolve(&self, auth: &Authenticator) -> Result<Principal, AuthError> {
        if self.malformed_authorization {
            return Err(AuthError::Unauthenticated(
                "malformed Authorization header: use `Bearer <token>`",
            ));
        }
        let credential = self
            .credential
            .as_ref()
            .ok_or(AuthError::Unauthenticated("authentication required"))?;
        let personal = credential
            .token
            .expose_secret()
            .starts_with(PERSONAL_TOKEN_PREFIX);
        match credential.source {
            // A cookie is set by Latchkey and only ever holds an access token; a personal
            // token there was put there by someone else (or by script), so it is refused.
            CredentialSource::Cookie if personal => {
                return Err(AuthError::Unauthenticated(
                    "personal tokens are not accepted from cookies",
                ));
            }
            // A URL lands in proxy logs, browser history and `Referer` headers: fine for an
            // access token that dies in minutes, not for one that lives a year.
            CredentialSource::QueryParameter if personal => {
                return Err(AuthError::Unauthenticated(
                    "personal tokens are not accepted in the access_token query parameter, \
                     where URLs are logged and leak: send it as `Authorization: Bearer lk_...`",
                ));
            }
            _ => {}
        }
        let principal = auth.authenticate(&credential.token).await?;
        if let Some(claimed) = &self.identity_id {
            let matches = Uuid::parse_str(claimed.trim()).is_ok_and(|id| id == principal.user_id);
            if !matches {
                return Err(AuthError::Forbidden("identityId does not match the token"));
            }
        }
        Ok(principal)
    }
}

pub(crate) fn request_context<'a>(ctx: &'a Context<'_>) -> Result<&'a RequestContext, ApiError> {
    ctx.data::<Arc<RequestContext>>()
        .map(Arc::as_ref)
        .map_err(|_| {
            ApiError::from(AuthError::Internal(anyhow::anyhow!(
                "request context missing"
            )))
        })
}

pub(crate) fn authenticator<'a>(ctx: &'a Context<'_>) -> Result<&'a Authenticator, ApiError> {
    ctx.data::<Arc<Authenticator>>()
        .map(Arc::as_ref)
        .map_err(|_| {
            ApiError::from(AuthError::Internal(anyhow::anyhow!(
                "authenticator missing"
            )))
        })
}

/// The authenticator as shared, for a subscription whose stream outlives the call.
pub(crate) fn authenticator_arc(ctx: &Context<'_>) -> Result<Arc<Authenticator>, ApiError> {
    ctx.data::<Arc<Authenticator>>().cloned().map_err(|_| {
        ApiError::from(AuthError::Internal(anyhow::anyhow!(
            "authenticator missing"
        )))
    })
}

/// The authenticated caller; checked once per request however many fields ask.
pub(crate) async fn principal(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    request_context(ctx)?
        .authenticate(authenticator(ctx)?)
        .await
}

/// The caller, if the request carries a valid credential; `None` otherwise.
pub(crate) async fn optional_principal(ctx: &Context<'_>) -> Result<Option<Principal>, ApiError> {
    match principal(ctx).await {
        Ok(p) => Ok(Some(p)),
        // A fault or an outage is not "no credential": the caller must not be served as
        // anonymous because the database could not say who they are.
        Err(e)
            if e.code() == super::errors::code::INTERNAL_SERVER_ERROR
                || e.code() == super::errors::code::SERVICE_UNAVAILABLE =>
        {
            Err(e)
        }
        Err(_) => Ok(None),
    }
}

/// What a step-up operation's call brings: the `password` and `otp` arguments, when given,
/// and the client, for the throttle and the log.
pub(crate) fn step_up(
    ctx: &Context<'_>,
    password: Option<super::types::Secret>,
    otp: Option<super::types::Secret>,
) -> Result<StepUp, ApiError> {
    Ok(StepUp {
        password: password.map(super::types::Secret::into_inner),
        otp: otp.map(super::types::Secret::into_inner),
        client: request_context(ctx)?.client.clone(),
    })
}
