//! What the caller knows about the client behind a request.

/// Recorded on the session a login opens, and used to key per-address budgets.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}
