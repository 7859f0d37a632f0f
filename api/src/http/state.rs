//! What every request handler shares: settings, the authenticator, the schema, the apps.

use std::sync::Arc;

use super::low_priority::LowPriorityLane;
use crate::auth::apps::origin::Origin;
use crate::auth::apps::registry::AppRegistry;
use crate::auth::authenticator::Authenticator;
use crate::config::Settings;
use crate::graphql::LatchkeySchema;
use crate::store::Store;

/// Shared by every request.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub auth: Arc<Authenticator>,
    pub schema: LatchkeySchema,
    /// Project API keys and their origins, kept current in memory.
    pub apps: Arc<AppRegistry>,
    /// The `cors_origins` setting, parsed (apps' origins come from `apps`).
    pub cors_origins: Vec<Origin>,
    /// Where anonymous queries run: only on a core the request workers leave idle.
    pub low_priority: LowPriorityLane,
    /// Set once the process has begun to stop: `/ready` then answers 503.
    pub stopping: crate::shutdown::Stopping,
    /// The runtime the application was built on, which outlives the HTTP workers.
    /// Everything that touches the database runs there: a connection belongs to the
    /// runtime that opened it, and a stopping server shuts its workers' runtimes down
    /// one by one, which would break a connection another worker's request still uses.
    pub runtime: tokio::runtime::Handle,
    /// The bounds on open WebSockets (subscriptions).
    pub sockets: super::websocket::SocketLimits,
}
