//! Outbound webhooks: the endpoints operators register (`latchkey webhook add`), what
//! each receives, and the secret it verifies signatures with. Delivery itself (HTTP,
//! signing, retries) is `crate::webhooks`; this module holds no HTTP types.
//!
//! - [`target`]: which URLs an endpoint may have (http/https; public addresses unless
//!   `webhook_allow_private_targets`).
//! - [`filter`]: which event kinds an endpoint receives.
//! - [`signing_secret`]: the `whsec_` secret (Standard Webhooks), sealed at rest.
//! - [`management`]: add, list, remove, enable; what the CLI calls.

pub mod filter;
pub mod management;
pub mod signing_secret;
pub mod target;

use crate::store::StoreError;

/// What went wrong managing endpoints; every message is fit for an operator and holds
/// no secret.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid webhook URL: {0}")]
    InvalidUrl(String),
    #[error("invalid event filter: {0}")]
    InvalidFilter(String),
    #[error("no webhook endpoint with id `{0}`")]
    NotFound(String),
    #[error("database error")]
    Store(#[source] StoreError),
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        WebhookError::Store(e)
    }
}
