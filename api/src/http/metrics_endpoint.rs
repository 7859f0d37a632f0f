//! `GET /metrics`: the Prometheus text format, on the main listener or on `metrics_bind`'s.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::state::AppState;
use crate::series::{exporter, names};

/// Prometheus' text exposition format, version 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The longest a scrape waits on the database for its samples; a scrape still answers
/// (with the in-process series) when the database is slow or down.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(1);

/// On the main listener: served unless `metrics` is off or `metrics_bind` moves it.
pub async fn on_main_listener(state: web::Data<AppState>) -> HttpResponse {
    if !state.settings.metrics || state.settings.metrics_bind.is_some() {
        return HttpResponse::NotFound().finish();
    }
    scrape(&state).await
}

/// On the `metrics_bind` listener, which exists only when metrics are on.
pub async fn on_own_listener(state: web::Data<AppState>) -> HttpResponse {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> HttpResponse {
    let Some(handle) = exporter::handle() else {
        return HttpResponse::NotFound().finish();
    };
    sample(state).await;
    HttpResponse::Ok()
        .content_type(TEXT_FORMAT)
        .insert_header(("cache-control", "no-store"))
        .body(handle.render())
}

/// Gauges of things held elsewhere, read now.
async fn sample(state: &AppState) {
    let pool = state.store.pool_stats();
    metrics::gauge!(names::DB_CONNECTIONS, "state" => "in_use").set(pool.in_use());
    metrics::gauge!(names::DB_CONNECTIONS, "state" => "idle").set(pool.idle);
    metrics::gauge!(names::DB_CONNECTIONS_MAX).set(pool.max);
    if let Ok(Some(wait)) = tokio::time::timeout(SAMPLE_TIMEOUT, state.store.sample_acquire()).await
    {
        metrics::gauge!(names::DB_ACQUIRE_SECONDS).set(wait.as_secs_f64());
    }
    // One block per outbox, labelled by `outbox`.
    if let Ok(Ok(mail)) = tokio::time::timeout(SAMPLE_TIMEOUT, state.store.outbox.counts()).await {
        let depth = |s: &'static str, n: u64| {
            // Counts beyond f64's exact integers (2^53) do not occur; the cast only rounds.
            metrics::gauge!(names::OUTBOX_DEPTH, "outbox" => "mail", "state" => s).set(n as f64);
        };
        depth("pending", mail.pending);
        depth("failed", mail.failed);
    }
    if let Ok(Ok(webhooks)) =
        tokio::time::timeout(SAMPLE_TIMEOUT, state.store.webhooks.backlog()).await
    {
        // Pending: events active endpoints still have to receive; failing and disabled
        // count endpoints, whose backlog is what an operator acts on.
        let depth = |s: &'static str, n: u64| {
            metrics::gauge!(names::OUTBOX_DEPTH, "outbox" => "webhook", "state" => s).set(n as f64);
        };
        depth("pending", webhooks.pending_events);
        depth("failing_endpoints", webhooks.failing_endpoints);
        depth("disabled_endpoints", webhooks.disabled_endpoints);
    }
}
