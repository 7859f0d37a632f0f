//! `latchkey webhook add|list|remove|enable`: outbound webhook endpoints.

use clap::Subcommand;

use super::format::timestamp;
use crate::auth::clock::{Clock as _, SystemClock};
use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum WebhookCommand {
    /// Add an endpoint and print its id and signing secret. The secret is shown only
    /// this once and is alone on the last line of the output. It receives the events
    /// recorded from now on; running servers start delivering within
    /// `webhook_poll_interval`.
    Add {
        /// An http:// or https:// URL. Loopback and private addresses are refused unless
        /// `webhook_allow_private_targets` is on.
        url: String,
        /// `all`, or event kinds separated by commas, like LOGIN_SUCCEEDED,SESSION_REVOKED.
        #[arg(long, value_name = "KINDS")]
        events: String,
    },
    /// One endpoint a line: id, status, events, URL, then its delivery state.
    List,
    /// Remove an endpoint: nothing more is sent to it.
    Remove { id: String },
    /// Resume an endpoint that was disabled after failing too long, from the first event
    /// it did not receive.
    Enable { id: String },
}

pub(super) async fn run(command: WebhookCommand, settings: &Settings) -> anyhow::Result<()> {
    use crate::auth::webhooks::management as webhooks;
    let store = Store::open(settings).await?;
    match command {
        WebhookCommand::Add { url, events } => {
            let created = webhooks::add(
                &store.webhooks,
                &url,
                &events,
                settings.webhooks.allow_private_targets,
                SystemClock.now(),
            )
            .await?;
            let endpoint = &created.endpoint;
            println!("created webhook endpoint {}", endpoint.id);
            println!("url: {}", endpoint.url);
            println!("events: {}", shown_kinds(&endpoint.event_kinds));
            println!("signing secret (shown only this once; verify webhook-signature with it):");
            println!("{}", created.secret.expose());
        }
        WebhookCommand::List => {
            let endpoints = webhooks::list(&store.webhooks).await?;
            if endpoints.is_empty() {
                eprintln!("no webhook endpoints");
            }
            for e in endpoints {
                let mut state = format!("delivered through event {}", e.event_cursor);
                if let Some(at) = e.last_delivered_at {
                    state.push_str(&format!(", last at {}", timestamp(at)));
                }
                if let Some(since) = e.failing_since {
                    state.push_str(&format!(
                        ", failing since {} ({} attempts, next at {}): {}",
                        timestamp(since),
                        e.attempts,
                        timestamp(e.next_attempt_at),
                        e.last_error.as_deref().unwrap_or("")
                    ));
                }
                println!(
                    "{}  {}  {}  {}  {state}",
                    e.id,
                    e.status,
                    shown_kinds(&e.event_kinds),
                    e.url
                );
            }
            let backlog = webhooks::backlog(&store.webhooks).await?;
            eprintln!(
                "backlog: {} events pending, {} endpoints failing, {} disabled",
                backlog.pending_events, backlog.failing_endpoints, backlog.disabled_endpoints
            );
        }
        WebhookCommand::Remove { id } => {
            webhooks::remove(&store.webhooks, &id).await?;
            println!("removed webhook endpoint {}", id.trim());
        }
        WebhookCommand::Enable { id } => {
            webhooks::enable(&store.webhooks, &id, SystemClock.now()).await?;
            println!("enabled webhook endpoint {}", id.trim());
        }
    }
    Ok(())
}

fn shown_kinds(stored: &str) -> &str {
    if stored == "*" { "all" } else { stored }
}
