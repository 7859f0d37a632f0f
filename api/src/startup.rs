//! Builds the application: database, migrations, keys, schema, and the bound listener.

use std::net::TcpListener;
use std::sync::{Arc, Weak};

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
use crate::http::state::AppState;
use crate::http::telemetry::RequestSpan;
use crate::store::Store;

/// A server bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
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
        let store = Store::open(&settings).await?;
        // Before the keys are loaded: a database sealed by another key stops the start
        // here, by name, and the secrets a run without a key left in the clear are sealed.
        store.seal_at_rest().await?;
        let auth = Arc::new(Authenticator::start(&settings, store.clone(), clock.clone()).await?);
        crate::mail::worker::spawn(
            &settings.mail,
            store.outbox.clone(),
            clock.clone(),
            auth.mail_wake_signal(),
            Arc::downgrade(&auth),
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
        let state = web::Data::new(AppState {
            settings: Arc::new(settings),
            store,
            auth,
            schema,
            apps,
            cors_origins,
            low_priority: LowPriorityLane::start()?,
        });
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
                .app_data(state.clone())
                .configure(crate::http::routes)
        })
        .listen(listener)
        .context("starting the HTTP server")?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server: `handle().stop(true).await` drains in-flight requests.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
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
