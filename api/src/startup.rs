//! Builds the application: database, migrations, keys, schema, and the bound listener.

use std::net::TcpListener;
use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use tracing_actix_web::TracingLogger;

use crate::auth::apps::registry::AppRegistry;
use crate::auth::authenticator::Authenticator;
use crate::auth::clock::{Clock, SystemClock};
use crate::auth::tokens::key_ring::RELOAD_INTERVAL;
use crate::config::Settings;
use crate::graphql::build_schema;
use crate::http::low_priority::LowPriorityLane;
use crate::http::request_identity;
use crate::http::state::AppState;
use crate::http::telemetry::RequestSpan;
use crate::shutdown::Stopping;
use crate::store::Store;

/// The response header that names the instance (`instance_name`).
pub const INSTANCE_HEADER: &str = "x-latchkey-instance";

/// A server bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    stopping: Stopping,
    /// Background tasks that must finish their round before the process exits.
    workers: Vec<tokio::task::JoinHandle<()>>,
    grace: Duration,
    /// The `metrics_bind` listener, when set: its port, and its server (already running).
    metrics: Option<(u16, ServerHandle)>,
    /// Where this process's events, and on PostgreSQL every instance's, are announced.
    event_bus: Arc<crate::auth::events::EventBus>,
    /// On PostgreSQL, the connection hearing other instances' changes.
    change_feed: Option<crate::notify::ChangeFeed>,
}

impl Application {
    /// Connects to the database, migrates it (unless `auto_migrate` is off), checks and
    /// seals the secrets at rest (with `secret_key_file`), loads or creates the signing
    /// key, creates the configured admin, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let cors_origins = crate::http::cors::configured_origins(&settings.cors_origins)?;
        if settings.metrics {
            crate::series::exporter::install()?;
        }
        let store = Store::open(&settings).await?;
        // Before the keys are loaded: a database sealed by another key stops the start
        // here, by name, and the secrets a run without a key left in the clear are sealed.
        store.seal_at_rest().await?;
        let auth = Arc::new(Authenticator::start(&settings, store.clone(), clock.clone()).await?);
        let stopping = Stopping::default();
        let mail_worker = crate::mail::worker::spawn(
            &settings.mail,
            store.outbox.clone(),
            clock.clone(),
            auth.mail_wake_signal(),
            Arc::downgrade(&auth),
            stopping.watch(),
        )?;
        crate::webhooks::worker::spawn(
            &settings.webhooks,
            store.webhooks.clone(),
            clock,
            Arc::downgrade(&auth),
        )?;
        if let Some(admin) = &settings.admin {
            auth.ensure_admin(&admin.username, &admin.password).await?;
        }
        let change_feed = crate::notify::spawn(store.clone(), &auth, stopping.watch());
        let event_bus = auth.event_bus();
        tokio::spawn(keep_keys_current(Arc::downgrade(&auth)));
        tokio::spawn(prune_old_events(Arc::downgrade(&auth)));
        let apps = Arc::new(AppRegistry::load(store.apps.clone()).await?);
        tokio::spawn(keep_apps_current(Arc::downgrade(&apps)));
        let schema = build_schema(&settings, auth.clone());
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();
        let grace = settings.shutdown_grace;
        let instance = settings.instance_name.clone();
        let state = web::Data::new(AppState {
            settings: Arc::new(settings),
            store,
            auth,
            schema,
            apps,
            cors_origins,
            low_priority: LowPriorityLane::start()?,
            stopping: stopping.clone(),
            runtime: tokio::runtime::Handle::current(),
            sockets: crate::http::websocket::SocketLimits::default(),
        });
        let metrics = match state.settings.metrics_bind.clone() {
            Some(bind) if state.settings.metrics => Some(metrics_server(&bind, state.clone())?),
            _ => None,
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(crate::http::cors::middleware(
                    &state.cors_origins,
                    state.apps.clone(),
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::cors::complete_answer,
                ))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(actix_web::middleware::Condition::new(
                    instance.is_some(),
                    actix_web::middleware::DefaultHeaders::new()
                        .add((INSTANCE_HEADER, instance.clone().unwrap_or_default())),
                ))
                // Outermost: the client's address and the request id are settled before
                // the root span opens, and the id is stamped on every answer.
                .wrap(actix_web::middleware::from_fn(request_identity::middleware))
                .app_data(state.clone())
                .configure(crate::http::routes)
        })
        // Signals are the `serve` command's business (`serve_until_signalled`), not the
        // library's: a test process embedding servers keeps its Ctrl-C.
        .disable_signals()
        .shutdown_timeout(whole_seconds_up(grace))
        .listen(listener)
        .context("starting the HTTP server")?
        .run();
        Ok(Application {
            port,
            server,
            stopping,
            workers: mail_worker.into_iter().collect(),
            grace,
            metrics,
            event_bus,
            change_feed,
        })
    }

    /// The bus every event this process hears of is published on.
    pub fn event_bus(&self) -> Arc<crate::auth::events::EventBus> {
        self.event_bus.clone()
    }

    /// On PostgreSQL, the feed of other instances' changes; `None` on SQLite.
    pub fn change_feed(&self) -> Option<crate::notify::ChangeFeed> {
        self.change_feed.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `metrics_bind` listener's port, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// What `/ready` and the background workers read to know the process is stopping;
    /// `begin()` on it is the first thing a graceful stop does.
    pub fn stopping(&self) -> Stopping {
        self.stopping.clone()
    }

    /// Stops the server: `handle().stop(true).await` drains in-flight requests.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Runs until stopped through [`Application::handle`], then lets the background
    /// workers finish their round (within `shutdown_grace`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.stopping.begin();
        // The metrics listener lives as long as the main one.
        if let Some((_, metrics)) = self.metrics {
            metrics.stop(true).await;
        }
        let workers = futures_join_all(self.workers);
        if tokio::time::timeout(self.grace, workers).await.is_err() {
            tracing::warn!("background workers still busy after shutdown_grace: leaving them");
        }
        served
    }

    /// Runs until SIGTERM or SIGINT, then stops gracefully: no new connections,
    /// `/ready` answers 503, requests in flight finish within `shutdown_grace`.
    pub async fn serve_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let stopping = self.stopping.clone();
        let grace = self.grace;
        let signals = crate::shutdown::Signals::register()?;
        tokio::spawn(async move {
            let signal = signals.first().await;
            tracing::info!(
                signal,
                grace_secs = grace.as_secs_f64(),
                "stopping: finishing the requests in flight"
            );
            stopping.begin();
            handle.stop(true).await;
        });
        let served = self.run_until_stopped().await;
        tracing::info!("stopped");
        served
    }
}

/// actix takes its shutdown timeout in whole seconds; a grace of 1.5 s gets 2.
fn whole_seconds_up(grace: Duration) -> u64 {
    grace.as_secs() + u64::from(grace.subsec_nanos() > 0)
}

async fn futures_join_all(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        if let Err(e) = handle.await {
            tracing::warn!(error = %e, "a background worker ended abnormally");
        }
    }
}

/// The `metrics_bind` listener: `/metrics` alone, on one worker, started at once.
fn metrics_server(bind: &str, state: web::Data<AppState>) -> anyhow::Result<(u16, ServerHandle)> {
    let listener =
        TcpListener::bind(bind).with_context(|| format!("binding metrics_bind {bind}"))?;
    let port = listener
        .local_addr()
        .context("reading the metrics address")?
        .port();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(actix_web::middleware::from_fn(request_identity::middleware))
            .app_data(state.clone())
            .configure(crate::http::metrics_routes)
    })
    .workers(1)
    .listen(listener)
    .context("starting the metrics server")?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((port, handle))
}

/// Re-reads the signing keys now and then, so a `latchkey keys rotate` run elsewhere makes
/// the new key this instance's signer too. Ends when the application is dropped.
async fn keep_keys_current(auth: Weak<Authenticator>) {
    let mut ticks = tokio::time::interval(RELOAD_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // The first tick is immediate; the keys were just loaded.
    loop {
        ticks.tick().await;
        let Some(auth) = auth.upgrade() else { return };
        if let Err(e) = auth.reload_keys().await {
            tracing::warn!(error = %format!("{e:#}"), "could not re-read the signing keys");
        }
    }
}

/// Re-reads the apps every minute, so `latchkey app delete` (and an app added while this
/// instance was not asked for its key) takes effect without a restart. Ends when the
/// application is dropped.
async fn keep_apps_current(apps: Weak<AppRegistry>) {
    let mut ticks = tokio::time::interval(AppRegistry::RELOAD_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // The first tick is immediate; the apps were just loaded.
    loop {
        ticks.tick().await;
        let Some(apps) = apps.upgrade() else { return };
        if let Err(e) = apps.reload().await {
            tracing::warn!(error = %format!("{e:#}"), "could not re-read the apps");
        }
    }
}

/// Looks now and then whether old security events are due for deletion (by the
/// application's clock; writing events looks too), so they age out where nothing new is
/// written. Ends when the application is dropped.
async fn prune_old_events(auth: Weak<Authenticator>) {
    const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);
    let mut ticks = tokio::time::interval(LOOK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(auth) = auth.upgrade() else { return };
        auth.prune_events_if_due();
    }
}
