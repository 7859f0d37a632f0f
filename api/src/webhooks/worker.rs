//! The delivery worker: finds endpoints with undelivered events, claims each (a lease,
//! so two instances never deliver one endpoint at the same time), and POSTs its events
//! in order, moving the endpoint's cursor after each 2xx.
//!
//! A failure leaves the cursor on the event and puts the endpoint off: 5 s after the
//! first failure, doubling up to 1 h, each delay varied by ±20 % so endpoints that
//! failed together do not all retry together. An endpoint that has not had a success
//! for `webhook_give_up_after` is disabled (its cursor kept, for `latchkey webhook
//! enable`). State lives in the endpoint's row, so a restart resumes where it stopped;
//! an instance that stops between a receiver's 2xx and the cursor's move sends that
//! event again, with the same `webhook-id` (at least once).
//!
//! Time for leases and backoff comes from the injected clock, so a test moves time
//! instead of waiting; the worker looks for work every `webhook_poll_interval`.

use std::sync::{Arc, Weak};

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret as _;
use tokio::task::JoinSet;

use super::client::{Delivery, DeliveryClient, Outcome};
use super::{payload, signing};
use crate::auth::clock::Clock;
use crate::auth::webhooks::signing_secret::SigningSecret;
use crate::auth::webhooks::target::EndpointUrl;
use crate::config::webhooks::WebhookSettings;
use crate::store::webhooks::{ClaimedEndpoint, Failure, Webhooks, kinds_of};

/// Endpoints one round looks at, at most.
const ENDPOINTS_PER_ROUND: u64 = 64;
/// Events one claim delivers at most, before the endpoint is released for the next round.
const EVENTS_PER_CLAIM: u64 = 32;
/// How long a claim holds an endpoint. A claim stops delivering while less than one
/// timeout of it is left, so a holder never delivers on an expired lease.
const LEASE: TimeDelta = TimeDelta::minutes(5);
const FIRST_RETRY: TimeDelta = TimeDelta::seconds(5);
const LONGEST_RETRY: TimeDelta = TimeDelta::hours(1);
/// Each delay is multiplied by a factor drawn from `1 ± JITTER`.
const JITTER: f64 = 0.2;

/// Delay before attempt `attempts + 1`, after `attempts` failures, before jitter.
pub fn backoff(attempts: i32) -> TimeDelta {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    FIRST_RETRY
        .checked_mul(1 << doublings)
        .map_or(LONGEST_RETRY, |delay| delay.min(LONGEST_RETRY))
}

/// `delay` times `factor` (clamped to `1 ± JITTER`), in whole milliseconds.
pub fn jittered(delay: TimeDelta, factor: f64) -> TimeDelta {
    let factor = factor.clamp(1.0 - JITTER, 1.0 + JITTER);
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let millis = (delay.num_milliseconds() as f64 * factor).round() as i64;
    TimeDelta::milliseconds(millis)
}

pub struct WebhookWorker {
    webhooks: Webhooks,
    client: DeliveryClient,
    settings: WebhookSettings,
    clock: Arc<dyn Clock>,
}

impl WebhookWorker {
    pub fn new(
        settings: &WebhookSettings,
        webhooks: Webhooks,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<WebhookWorker> {
        Ok(WebhookWorker {
            client: DeliveryClient::new(settings)?,
            webhooks,
            settings: settings.clone(),
            clock,
        })
    }

    /// Runs until `alive` is gone (the application was dropped).
    pub async fn run<T: Send + Sync>(self: Arc<Self>, alive: Weak<T>) {
        loop {
            if alive.upgrade().is_none() {
                return;
            }
            if let Err(e) = self.clone().round().await {
                tracing::warn!(error = %format!("{e:#}"), "webhook delivery round failed");
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
    }

    /// Claims the endpoints that have events due and delivers them, endpoints side by
    /// side; how many events were delivered.
    pub async fn round(self: Arc<Self>) -> anyhow::Result<u64> {
        let now = self.clock.now();
        let mut deliveries = JoinSet::new();
        for endpoint in self.webhooks.due(now, ENDPOINTS_PER_ROUND).await? {
            // A read before the write: an endpoint with nothing to send is not claimed.
            let kinds = kinds_of(&endpoint.event_kinds);
            let next = self
                .webhooks
                .events_after(endpoint.event_cursor, kinds.as_deref(), 1)
                .await?;
            if next.is_empty() {
                continue;
            }
            let Some(claimed) = self.webhooks.claim(endpoint.id, now, now + LEASE).await? else {
                continue; // Another instance was first.
            };
            let worker = self.clone();
            deliveries.spawn(async move { worker.deliver(claimed, now + LEASE).await });
        }
        let mut delivered = 0;
        while let Some(joined) = deliveries.join_next().await {
            match joined {
                Ok(Ok(n)) => delivered += n,
                Ok(Err(e)) => {
                    tracing::warn!(error = %format!("{e:#}"), "webhook endpoint not handled");
                }
                Err(e) => tracing::error!(error = %e, "webhook delivery task failed"),
            }
        }
        Ok(delivered)
    }

    /// Delivers a claimed endpoint's next events in order until one fails, none is left,
    /// or the lease runs short; releases the claim. How many were delivered.
    async fn deliver(
        &self,
        endpoint: ClaimedEndpoint,
        lease_until: DateTime<Utc>,
    ) -> anyhow::Result<u64> {
        let ClaimedEndpoint { claim, row, secret } = endpoint;
        let id = row.id;
        let key = SigningSecret::parse(secret.expose_secret().into())
            .and_then(|secret| secret.key_bytes());
        let target = EndpointUrl::parse(&row.url, self.settings.allow_private_targets);
        let (key, target) = match (key, target) {
            (Some(key), Ok(target)) => (key, target),
            (None, _) => {
                let failure = "the stored signing secret is not a whsec_ secret";
                self.fail(&row, claim, row.attempts, row.failing_since, failure)
                    .await?;
                return Ok(0);
            }
            (_, Err(e)) => {
                self.fail(&row, claim, row.attempts, row.failing_since, &e.to_string())
                    .await?;
                return Ok(0);
            }
        };
        let kinds = kinds_of(&row.event_kinds);
        let events = self
            .webhooks
            .events_after(row.event_cursor, kinds.as_deref(), EVENTS_PER_CLAIM)
            .await?;
        let timeout = TimeDelta::from_std(self.settings.timeout).unwrap_or(LEASE);
        let mut delivered = 0;
        for event in events {
            let now = self.clock.now();
            if now + timeout >= lease_until {
                break;
            }
            let message_id = signing::message_id(id, event.id);
            let timestamp = now.timestamp();
            let body = payload::body(&event);
            let signature = signing::signature(&key, &message_id, timestamp, &body);
            let outcome = self
                .client
                .send(Delivery {
                    url: &target,
                    id: &message_id,
                    timestamp,
                    signature: &signature,
                    body,
                })
                .await;
            match outcome {
                Outcome::Delivered => {
                    let at = self.clock.now();
                    if !self.webhooks.advance(id, claim, event.id, Some(at)).await? {
                        // The claim was lost (the endpoint was removed, or the lease
                        // expired and another instance took it): it goes on from there.
                        return Ok(delivered);
                    }
                    delivered += 1;
                    tracing::info!(endpoint_id = %id, event_id = event.id, kind = %event.kind, "webhook delivered");
                }
                Outcome::Failed(error) => {
                    // After a success in this claim the endpoint is no longer failing.
                    let (attempts, since) = if delivered == 0 {
                        (row.attempts, row.failing_since)
                    } else {
                        (0, None)
                    };
                    self.fail(&row, claim, attempts, since, &error).await?;
                    return Ok(delivered);
                }
            }
        }
        self.webhooks.release(id, claim).await?;
        Ok(delivered)
    }

    /// Records a failed attempt: backoff, or disabling after `webhook_give_up_after`.
    async fn fail(
        &self,
        row: &crate::store::webhooks::EndpointRow,
        claim: uuid::Uuid,
        attempts_before: i32,
        failing_since: Option<DateTime<Utc>>,
        error: &str,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let attempts = attempts_before.saturating_add(1);
        let failing_since = failing_since.unwrap_or(now);
        let give_up_after =
            TimeDelta::from_std(self.settings.give_up_after).unwrap_or(TimeDelta::MAX);
        let disable = now - failing_since >= give_up_after;
        let delay = jittered(
            backoff(attempts),
            rand::random_range(1.0 - JITTER..=1.0 + JITTER),
        );
        let next_attempt_at = now + delay;
        self.webhooks
            .record_failure(
                row.id,
                claim,
                Failure {
                    attempts,
                    next_attempt_at,
                    failing_since,
                    error,
                    disable,
                },
            )
            .await?;
        if disable {
            tracing::error!(endpoint_id = %row.id, attempts, error, failing_since = %failing_since, "webhook endpoint disabled after failing too long; `latchkey webhook enable` resumes it");
        } else {
            tracing::warn!(endpoint_id = %row.id, attempts, error, retry_at = %next_attempt_at, "webhook not delivered; will retry");
        }
        Ok(())
    }
}

/// Starts the worker unless `webhook_worker` is off; it ends when `alive` is dropped.
pub fn spawn<T: Send + Sync + 'static>(
    settings: &WebhookSettings,
    webhooks: Webhooks,
    clock: Arc<dyn Clock>,
    alive: Weak<T>,
) -> anyhow::Result<()> {
    // Built even when this instance does not deliver, so a TLS set-up error stops every
    // instance's start alike.
    let worker = Arc::new(WebhookWorker::new(settings, webhooks, clock)?);
    if settings.worker {
        tokio::spawn(worker.run(alive));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_5_seconds_to_an_hour() {
        let secs: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(i32::MAX), LONGEST_RETRY);
        assert_eq!(backoff(0), FIRST_RETRY);
    }

    #[test]
    fn jitter_stays_within_a_fifth_either_way() {
        let delay = TimeDelta::seconds(10);
        assert_eq!(jittered(delay, 0.0), TimeDelta::seconds(8));
        assert_eq!(jittered(delay, 9.0), TimeDelta::seconds(12));
        assert_eq!(jittered(delay, 1.05), TimeDelta::milliseconds(10_500));
    }
}
