//! Adding, listing, removing and re-enabling endpoints (`latchkey webhook ...`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::WebhookError;
use super::filter::EventFilter;
use super::signing_secret::SigningSecret;
use super::target::EndpointUrl;
use crate::auth::events::AuthEventKind;
use crate::store::webhooks::{Backlog, EndpointRow, NewEndpoint, Webhooks};

/// A new endpoint and its signing secret, shown this once.
#[derive(Debug)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointRow,
    pub secret: SigningSecret,
}

/// Whether `kind` names an event the server records: the event engine's list, so a kind
/// added there can be subscribed to without a change here.
pub fn known_kind(kind: &str) -> bool {
    AuthEventKind::parse(kind).is_some()
}

/// Adds an endpoint for `url` receiving the kinds `events` names (`all`, or a
/// comma-separated list). It receives the events recorded from now on.
pub async fn add(
    webhooks: &Webhooks,
    url: &str,
    events: &str,
    allow_private: bool,
    now: DateTime<Utc>,
) -> Result<CreatedEndpoint, WebhookError> {
    let url = EndpointUrl::parse(url, allow_private)?;
    let filter = EventFilter::parse(events, known_kind)?;
    let secret = SigningSecret::generate();
    let endpoint = webhooks
        .insert(NewEndpoint {
            id: Uuid::now_v7(),
            url: url.as_str().to_owned(),
            secret: secret.as_secret().clone(),
            event_kinds: filter.stored(),
            now,
        })
        .await?;
    tracing::info!(endpoint_id = %endpoint.id, url = %endpoint.url, events = %endpoint.event_kinds, "webhook endpoint added");
    Ok(CreatedEndpoint { endpoint, secret })
}

pub async fn list(webhooks: &Webhooks) -> Result<Vec<EndpointRow>, WebhookError> {
    Ok(webhooks.all().await?)
}

fn parse_id(id: &str) -> Result<Uuid, WebhookError> {
    Uuid::parse_str(id.trim())
        .map_err(|_| WebhookError::NotFound(id.trim().chars().take(64).collect()))
}

/// Removes an endpoint; nothing more is sent to it (a delivery under way may finish).
pub async fn remove(webhooks: &Webhooks, id: &str) -> Result<(), WebhookError> {
    let uuid = parse_id(id)?;
    if webhooks.delete(uuid).await? {
        tracing::info!(endpoint_id = %uuid, "webhook endpoint removed");
        Ok(())
    } else {
        Err(WebhookError::NotFound(uuid.to_string()))
    }
}

/// Re-enables an endpoint (disabled after failing too long): delivery resumes at the
/// first event it did not receive, now.
pub async fn enable(webhooks: &Webhooks, id: &str, now: DateTime<Utc>) -> Result<(), WebhookError> {
    let uuid = parse_id(id)?;
    if webhooks.enable(uuid, now).await? {
        tracing::info!(endpoint_id = %uuid, "webhook endpoint enabled");
        Ok(())
    } else {
        Err(WebhookError::NotFound(uuid.to_string()))
    }
}

/// The delivery backlog: what `/metrics` reports as the webhook backlog depth.
pub async fn backlog(webhooks: &Webhooks) -> Result<Backlog, WebhookError> {
    Ok(webhooks.backlog().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_kinds_are_the_event_engines() {
        for kind in AuthEventKind::ALL {
            assert!(known_kind(kind.as_str()), "{kind:?}");
        }
        for name in ["NOT_A_KIND", "logged_out", "LOGOUT", "", "LOGIN_SUCCEEDED "] {
            assert!(!known_kind(name), "{name:?}");
        }
    }
}
