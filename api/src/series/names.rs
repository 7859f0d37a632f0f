//! Every series' name and help text: what docs/operations.md lists.

/// GraphQL requests by `kind` (query, mutation, subscription, invalid).
pub const GRAPHQL_REQUESTS: &str = "latchkey_graphql_requests_total";
/// Seconds from a GraphQL request's arrival at the schema to its answer, by `kind`.
pub const GRAPHQL_SECONDS: &str = "latchkey_graphql_request_duration_seconds";
/// Login attempts by `outcome`.
pub const LOGINS: &str = "latchkey_logins_total";
/// Refreshes by `outcome`.
pub const REFRESHES: &str = "latchkey_refreshes_total";
/// Credential checks refused by the throttle, `by` the account's lock or the address's budget.
pub const LOCKOUTS: &str = "latchkey_lockouts_total";
/// Password hashes waiting for, or running on, a hashing thread.
pub const HASH_QUEUE: &str = "latchkey_password_hash_queue_depth";
/// Seconds a password hash waited before a hashing thread took it.
pub const HASH_WAIT_SECONDS: &str = "latchkey_password_hash_wait_seconds";
/// Database connections open and in use (sampled at scrape time).
pub const DB_CONNECTIONS: &str = "latchkey_db_pool_connections";
/// The most connections the pool may open.
pub const DB_CONNECTIONS_MAX: &str = "latchkey_db_pool_max_connections";
/// Seconds the scrape waited to be handed a pooled connection.
pub const DB_ACQUIRE_SECONDS: &str = "latchkey_db_pool_acquire_seconds";
/// Rows in an outbox by `outbox` (mail; webhooks when they exist) and `state`.
pub const OUTBOX_DEPTH: &str = "latchkey_outbox_depth";

/// Histogram buckets in seconds: from a cached `me` to a slow hash queue.
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Registers the help text of every series, once, when the recorder is installed.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(GRAPHQL_REQUESTS, "GraphQL requests, by operation kind");
    describe_histogram!(
        GRAPHQL_SECONDS,
        Unit::Seconds,
        "Time the schema took to answer a GraphQL request, by operation kind"
    );
    describe_counter!(LOGINS, "Login attempts, by outcome");
    describe_counter!(REFRESHES, "Refresh-token presentations, by outcome");
    describe_counter!(
        LOCKOUTS,
        "Credential checks refused by the throttle, by the account lock or the address budget"
    );
    describe_gauge!(
        HASH_QUEUE,
        "Password hashes queued for or running on a hashing thread"
    );
    describe_histogram!(
        HASH_WAIT_SECONDS,
        Unit::Seconds,
        "Time a password hash waited for a hashing thread"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Database pool connections, by state (idle, in_use)"
    );
    describe_gauge!(
        DB_CONNECTIONS_MAX,
        "The most connections the database pool may open"
    );
    describe_gauge!(
        DB_ACQUIRE_SECONDS,
        Unit::Seconds,
        "Time the last scrape waited for a pooled database connection"
    );
    describe_gauge!(OUTBOX_DEPTH, "Outbox rows, by outbox and state");
}
