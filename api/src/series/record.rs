//! What the domain records, in its own words: outcomes, not HTTP.

use std::time::{Duration, Instant};

use super::names;
use crate::auth::error::AuthError;

/// A login's outcome as the series labels it.
pub fn login<T>(result: &Result<T, AuthError>) {
    let outcome = match result {
        Ok(_) => "success",
        Err(AuthError::InvalidCredentials | AuthError::InvalidOtp) => "failure",
        Err(AuthError::RateLimited { .. }) => "locked",
        Err(AuthError::OtpRequired) => "otp_required",
        Err(AuthError::PasswordExpired) => "password_expired",
        Err(AuthError::Internal(_)) => "error",
        Err(_) => "rejected",
    };
    metrics::counter!(names::LOGINS, "outcome" => outcome).increment(1);
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

pub fn refresh(outcome: RefreshOutcome) {
    let outcome = match outcome {
        RefreshOutcome::Rotated => "rotated",
        RefreshOutcome::Grace => "grace",
        RefreshOutcome::ReuseDetected => "reuse_detected",
        RefreshOutcome::Invalid => "invalid",
    };
    metrics::counter!(names::REFRESHES, "outcome" => outcome).increment(1);
}

/// Which limit refused a credential check.
#[derive(Debug, Clone, Copy)]
pub enum Lockout {
    /// The account (or known device) is locked, or its free failures are under way.
    Account,
    /// The client address used up its failures for the minute.
    Address,
}

pub fn lockout(by: Lockout) {
    let by = match by {
        Lockout::Account => "account",
        Lockout::Address => "address",
    };
    metrics::counter!(names::LOCKOUTS, "by" => by).increment(1);
}

/// Counts a hash in the queue for as long as it lives (dropped when answered, or when
/// its caller goes away).
pub struct QueuedHash {
    since: Instant,
}

impl QueuedHash {
    pub fn enter() -> QueuedHash {
        metrics::gauge!(names::HASH_QUEUE).increment(1.0);
        QueuedHash {
            since: Instant::now(),
        }
    }

    /// When a hashing thread takes the hash: how long it waited.
    pub fn started(&self) {
        metrics::histogram!(names::HASH_WAIT_SECONDS).record(self.since.elapsed());
    }
}

impl Drop for QueuedHash {
    fn drop(&mut self) {
        metrics::gauge!(names::HASH_QUEUE).decrement(1.0);
    }
}

/// A GraphQL request answered: its kind, and how long the schema took.
pub fn graphql_request(kind: &'static str, took: Duration) {
    metrics::counter!(names::GRAPHQL_REQUESTS, "kind" => kind).increment(1);
    metrics::histogram!(names::GRAPHQL_SECONDS, "kind" => kind).record(took);
}
