//! What the domain records, in its own words: outcomes, not HTTP.
//!
//! Every series here has a fixed set of label values, so its handles are registered once,
//! when the recorder is installed ([`register`]), and recording is an atomic update of a
//! kept handle. The `metrics` macros would instead build the series' key and look it up in
//! the recorder's registry on every call (allocating the labels, twice), which on a request
//! as cheap as a cached `me` is a share worth saving (bench/README.md, "The cost of
//! metrics"). Until a recorder is installed (metrics off) nothing is kept and recording
//! does nothing, as the macros would.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram};

use super::names;
use crate::auth::error::AuthError;

/// The handles of every series this module records.
struct Series {
    graphql_requests: [Counter; OperationKind::LABELS.len()],
    graphql_seconds: [Histogram; OperationKind::LABELS.len()],
    logins: [Counter; LOGIN_OUTCOMES.len()],
    refreshes: [Counter; REFRESH_OUTCOMES.len()],
    lockouts: [Counter; LOCKOUTS.len()],
    hash_queue: Gauge,
    hash_wait: Histogram,
}

static SERIES: OnceLock<Series> = OnceLock::new();

/// Registers every series with the installed recorder; called once, just after it is
/// installed. Each labelled series therefore shows from the first scrape, at zero.
pub(super) fn register() {
    SERIES.get_or_init(|| Series {
        graphql_requests: counters(names::GRAPHQL_REQUESTS, "kind", OperationKind::LABELS),
        graphql_seconds: OperationKind::LABELS
            .map(|kind| metrics::histogram!(names::GRAPHQL_SECONDS, "kind" => kind)),
        logins: counters(names::LOGINS, "outcome", LOGIN_OUTCOMES),
        refreshes: counters(names::REFRESHES, "outcome", REFRESH_OUTCOMES),
        lockouts: counters(names::LOCKOUTS, "by", LOCKOUTS),
        hash_queue: metrics::gauge!(names::HASH_QUEUE),
        hash_wait: metrics::histogram!(names::HASH_WAIT_SECONDS),
    });
}

fn counters<const N: usize>(
    name: &'static str,
    label: &'static str,
    values: [&'static str; N],
) -> [Counter; N] {
    values.map(|value| metrics::counter!(name, label => value))
}

fn series() -> Option<&'static Series> {
    SERIES.get()
}

/// Label values of `latchkey_logins_total`, indexed by [`login`].
const LOGIN_OUTCOMES: [&str; 7] = [
    "success",
    "failure",
    "locked",
    "otp_required",
    "password_expired",
    "error",
    "rejected",
];

/// A login's outcome as the series labels it.
pub fn login<T>(result: &Result<T, AuthError>) {
    let outcome = match result {
        Ok(_) => 0,
        Err(AuthError::InvalidCredentials | AuthError::InvalidOtp) => 1,
        Err(AuthError::RateLimited { .. }) => 2,
        Err(AuthError::OtpRequired) => 3,
        Err(AuthError::PasswordExpired) => 4,
        Err(AuthError::Internal(_)) => 5,
        Err(_) => 6,
    };
    if let Some(counter) = series().and_then(|s| s.logins.get(outcome)) {
        counter.increment(1);
    }
}

/// How a refresh token was judged.
#[derive(Debug, Clone, Copy)]
pub enum RefreshOutcome {
    /// The current token: a successor was issued.
    Rotated,
    /// A token superseded moments ago (two tabs, a retry): the same successor again.
    Grace,
    /// A superseded token past the grace window: the session was revoked.
    ReuseDetected,
    /// Unknown, expired or of an ended session.
    Invalid,
}

/// Label values of `latchkey_refreshes_total`, in `RefreshOutcome`'s order.
const REFRESH_OUTCOMES: [&str; 4] = ["rotated", "grace", "reuse_detected", "invalid"];

pub fn refresh(outcome: RefreshOutcome) {
    if let Some(counter) = series().and_then(|s| s.refreshes.get(outcome as usize)) {
        counter.increment(1);
    }
}

/// Which limit refused a credential check.
#[derive(Debug, Clone, Copy)]
pub enum Lockout {
    /// The account (or known device) is locked, or its free failures are under way.
    Account,
    /// The client address used up its failures for the minute.
    Address,
}

/// Label values of `latchkey_lockouts_total`, in `Lockout`'s order.
const LOCKOUTS: [&str; 2] = ["account", "address"];

pub fn lockout(by: Lockout) {
    if let Some(counter) = series().and_then(|s| s.lockouts.get(by as usize)) {
        counter.increment(1);
    }
}

/// Counts a hash in the queue for as long as it lives (dropped when answered, or when
/// its caller goes away).
pub struct QueuedHash {
    since: Instant,
    /// The series it entered, so that it leaves the same ones even if the recorder was
    /// installed meanwhile.
    series: Option<&'static Series>,
}

impl QueuedHash {
    pub fn enter() -> QueuedHash {
        let series = series();
        if let Some(s) = series {
            s.hash_queue.increment(1.0);
        }
        QueuedHash {
            since: Instant::now(),
            series,
        }
    }

    /// When a hashing thread takes the hash: how long it waited.
    pub fn started(&self) {
        if let Some(s) = self.series {
            s.hash_wait.record(self.since.elapsed());
        }
    }
}

impl Drop for QueuedHash {
    fn drop(&mut self) {
        if let Some(s) = self.series {
            s.hash_queue.decrement(1.0);
        }
    }
}

/// The kind of operation a GraphQL request ran, as `latchkey_graphql_requests_total`
/// labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// No operation was selected: a parse error, a refused document, an `operationName`
    /// that names none.
    Invalid,
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    /// Label values, in the variants' order.
    const LABELS: [&'static str; 4] = ["invalid", "query", "mutation", "subscription"];
}

/// A GraphQL request answered: its kind, and how long the schema took.
pub fn graphql_request(kind: OperationKind, took: Duration) {
    let Some(s) = series() else { return };
    if let Some(counter) = s.graphql_requests.get(kind as usize) {
        counter.increment(1);
    }
    if let Some(histogram) = s.graphql_seconds.get(kind as usize) {
        histogram.record(took);
    }
}
