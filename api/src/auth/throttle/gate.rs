//! The throttle every credential check goes through: `login`, `changePassword` and the
//! one-time-password checks around each password or code they judge; `refresh` and
//! `register` per client address.
//!
//! The rules are in `account_lock` and `address_budget`; this file decides where each
//! piece of state lives (account failures in the database, address budgets in memory
//! here) and turns a refusal into [`AuthError::RateLimited`].

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::account_lock::{FailureRecord, LockSchedule};
use super::address_budget::{ClientKey, Counts, IpLimiter, ThrottledAction};
use crate::auth::error::AuthError;
use crate::store::throttle::LoginThrottle;

/// Forgotten failure counts are deleted at most this often per instance.
const SWEEP_INTERVAL: chrono::Duration = chrono::Duration::hours(1);

/// Throttling state held by one instance: the lock schedule over the failure counts in
/// the database, and one address budget per kind of attempt (so sign-ups do not use up
/// the budget of logins).
pub struct Throttle {
    failures: LoginThrottle,
    schedule: LockSchedule,
    login: IpLimiter,
    refresh: IpLimiter,
    register: IpLimiter,
    change_password: IpLimiter,
    totp: IpLimiter,
    last_sweep: Mutex<Option<DateTime<Utc>>>,
}

/// A credential check under way: whether the account had failures counted when it began,
/// so a success clears them only if so.
#[derive(Debug, Clone, Copy)]
#[must_use = "hand it to `login_succeeded` after a success"]
pub struct LoginAttempt {
    had_failures: bool,
}

fn rate_limited(retry_after_secs: u64) -> AuthError {
    AuthError::RateLimited { retry_after_secs }
}

fn client(ip: Option<&str>) -> Option<ClientKey> {
    ip.and_then(ClientKey::parse)
}

impl Throttle {
    pub fn new(
        failures: LoginThrottle,
        free_failures: u32,
        max_lock: Duration,
        ip_failures_per_minute: u32,
    ) -> Throttle {
        let per_minute = ip_failures_per_minute;
        Throttle {
            failures,
            schedule: LockSchedule::new(free_failures, max_lock),
            login: IpLimiter::new(per_minute),
            refresh: IpLimiter::new(per_minute),
            register: IpLimiter::new(per_minute),
            change_password: IpLimiter::new(per_minute),
            totp: IpLimiter::new(per_minute),
            last_sweep: Mutex::new(None),
        }
    }

    fn limiter(&self, action: ThrottledAction) -> &IpLimiter {
        match action {
            ThrottledAction::Refresh => &self.refresh,
            ThrottledAction::Register => &self.register,
            ThrottledAction::ChangePassword => &self.change_password,
            ThrottledAction::Totp => &self.totp,
        }
    }

    /// Refuses a credential check before it runs when the client address has used up its
    /// login failures, or the account is locked. `account` is the account's id, or for a
    /// name no account has, the stand-in from `account_lock::account_throttle_key` (so
    /// unknown names lock like real ones); `None` looks at the address only.
    ///
    /// The attempt takes its unit of the address budget here, so simultaneous attempts
    /// cannot overshoot it; an attempt that did not fail gives it back with
    /// [`Throttle::refund_login`].
    pub async fn begin_login(
        &self,
        account: Option<Uuid>,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LoginAttempt, AuthError> {
        if let Some(key) = client(ip) {
            self.login.attempt(key, now).map_err(rate_limited)?;
        }
        let locked = match account {
            Some(account) => self.account_lock(account, now).await,
            None => Ok((
                None,
                LoginAttempt {
                    had_failures: false,
                },
            )),
        };
        match locked {
            Ok((None, attempt)) => Ok(attempt),
            // Refused before anything was tried: the address is not charged for it.
            Ok((Some(wait), _)) => {
                self.refund_login(ip, now);
                Err(rate_limited(wait))
            }
            Err(e) => {
                self.refund_login(ip, now);
                Err(e)
            }
        }
    }

    /// Seconds until the account may try again, if it is locked; and whether it has
    /// failures counted at all.
    async fn account_lock(
        &self,
        account: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Option<u64>, LoginAttempt), AuthError> {
        let record = self.failures.find(account).await?.map(|row| FailureRecord {
            // A negative count can only be a hand-edited row: read it as none.
            failures: u32::try_from(row.failures).unwrap_or(0),
            last_failure_at: row.last_failure_at,
        });
        let attempt = LoginAttempt {
            had_failures: record.is_some(),
        };
        Ok((self.schedule.retry_after(record, now), attempt))
    }

    /// Counts a failed credential check (wrong password, wrong one-time password) against
    /// the account, with one atomic write. The address's unit was taken by
    /// [`Throttle::begin_login`] and stays taken. Never fails the request: a count that
    /// cannot be written is logged.
    pub async fn login_failed(&self, account: Option<Uuid>, ip: Option<&str>, now: DateTime<Utc>) {
        let Some(account) = account else { return };
        let forget_before = self.schedule.forget_before(now);
        match self
            .failures
            .record_failure(account, now, forget_before)
            .await
        {
            Ok(()) => tracing::info!(%account, ip, "failed login counted"),
            Err(e) => tracing::error!(%account, error = %e, "could not count a failed login"),
        }
        if self.sweep_due(now) {
            // In the background: however many rows there are, no answer waits for it.
            let table = self.failures.clone();
            tokio::spawn(async move {
                match table.sweep(forget_before).await {
                    Ok(swept) => tracing::debug!(swept, "forgotten login failures deleted"),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not delete forgotten login failures");
                    }
                }
            });
        }
    }

    /// Forgets the account's failures: its owner got in. Costs a write only when
    /// [`Throttle::begin_login`] found failures counted, which almost no login has. A
    /// failure counted while this attempt's password was being checked raced with it, and
    /// is taken as coming after the success: it stays counted.
    pub async fn login_succeeded(&self, account: Uuid, attempt: LoginAttempt) {
        if !attempt.had_failures {
            return;
        }
        if let Err(e) = self.failures.clear(account).await {
            tracing::error!(%account, error = %e, "could not reset failed logins");
        }
    }

    /// Gives back the address unit [`Throttle::begin_login`] took, for an attempt that
    /// did not fail: a success, or a right password whose one-time password is still to
    /// come. Only failures use up an address's login budget.
    pub fn refund_login(&self, ip: Option<&str>, now: DateTime<Utc>) {
        if let Some(key) = client(ip) {
            self.login.refund(key, now);
        }
    }

    /// Refuses `action` when the client address has used up its budget for it, else takes
    /// one unit. For an action that counts only failures (`Refresh`), give the unit back
    /// after a success with [`Throttle::refund`]. A request without an address (not over
    /// TCP) is not limited.
    pub fn charge(
        &self,
        action: ThrottledAction,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        match client(ip) {
            Some(key) => self.limiter(action).attempt(key, now).map_err(rate_limited),
            None => Ok(()),
        }
    }

    /// Gives back the unit [`Throttle::charge`] took, if `action` counts only failures.
    pub fn refund(&self, action: ThrottledAction, ip: Option<&str>, now: DateTime<Utc>) {
        if action.counts() == Counts::Failures
            && let Some(key) = client(ip)
        {
            self.limiter(action).refund(key, now);
        }
    }

    /// Whether a sweep of forgotten failures is due; if so, claims it.
    fn sweep_due(&self, now: DateTime<Utc>) -> bool {
        let mut last = self
            .last_sweep
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| now < at + SWEEP_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }
}
