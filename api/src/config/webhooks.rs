//! Outbound webhook settings: whether this instance delivers, how often it looks, how
//! long a failing endpoint is retried, and which targets an endpoint may name.

use std::time::Duration;

use super::raw::RawSettings;
use super::values::{ConfigError, invalid, parse_duration};

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether this instance runs the delivery worker.
    pub worker: bool,
    /// How often the worker looks for undelivered events.
    pub poll_interval: Duration,
    /// How long an endpoint may fail without a success before it is disabled.
    pub give_up_after: Duration,
    /// The longest one delivery (connect, send, answer) may take.
    pub timeout: Duration,
    /// Whether endpoints may be on loopback, private, link-local or other non-public
    /// addresses. Off by default: a webhook URL must not reach the server's own network.
    pub allow_private_targets: bool,
}

pub(super) fn parse(raw: &RawSettings) -> Result<WebhookSettings, ConfigError> {
    let poll_interval = parse_duration("webhook_poll_interval", &raw.webhook_poll_interval)?;
    if poll_interval < Duration::from_millis(10) {
        return Err(invalid("webhook_poll_interval", "must be at least 10ms"));
    }
    let give_up_after = parse_duration("webhook_give_up_after", &raw.webhook_give_up_after)?;
    if give_up_after < Duration::from_secs(60) {
        return Err(invalid("webhook_give_up_after", "must be at least 1m"));
    }
    let timeout = parse_duration("webhook_timeout", &raw.webhook_timeout)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&timeout) {
        return Err(invalid("webhook_timeout", "must lie between 1s and 60s"));
    }
    Ok(WebhookSettings {
        worker: raw.webhook_worker,
        poll_interval,
        give_up_after,
        timeout,
        allow_private_targets: raw.webhook_allow_private_targets,
    })
}
