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
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::series::record::{self, Lockout};
use crate::store::auth_events::Journal;
use crate::store::throttle::{Admission, Ending, LoginThrottle, Reservation};

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

/// How long an admitted attempt keeps its place when it is never released: its instance
/// stopped (or crashed) between the reservation and the answer. An attempt takes a hash
/// (queued behind at most the hashing pool's other work) and a few queries, far less than
/// this; a hold that lapsed while its attempt was still running lets at most one more
/// attempt in.
pub const ATTEMPT_HOLD: Duration = Duration::from_secs(30);

/// A credential check under way, holding its reserved place among the attempts for its
/// key. End it with [`Throttle::login_failed`], [`Throttle::login_succeeded`] or
/// [`Throttle::login_abandoned`]; dropped without that (the request was cancelled), it
/// frees its place in the background.
#[must_use = "end it with login_failed, login_succeeded or login_abandoned"]
pub struct LoginAttempt {
    /// The key the place is held under, and the table to give it back to; `None` when
    /// nothing was reserved or it has been given back.
    held: Option<(Uuid, LoginThrottle)>,
}

impl LoginAttempt {
    fn end(&mut self) -> Option<(Uuid, LoginThrottle)> {
        self.held.take()
    }
}

impl std::fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("key", &self.held.as_ref().map(|(key, _)| key))
            .finish()
    }
}

impl Drop for LoginAttempt {
    fn drop(&mut self) {
        let Some((key, table)) = self.end() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = table.release(key, Ending::Abandoned).await {
                    tracing::warn!(%key, error = %e, "could not free a cancelled login attempt");
                }
            });
        }
    }
}

/// The events a failed login records: the failure itself, and the template of the lock
/// it may set off (its failure count and lock length are added).
pub struct FailureEvents {
    pub failed: NewAuthEvent,
    pub locked: NewAuthEvent,
}

impl FailureEvents {
    /// The events of a failed proof outside `login`: a wrong password or code given to
    /// `changePassword`, `reauthenticate`, `disableTotp` or a step-up operation is a guess
    /// at a login credential and counts toward the same lock, so the log shows it the same
    /// way, with `during` naming the operation.
    pub fn during(
        operation: &'static str,
        account: Option<Uuid>,
        session: Option<Uuid>,
        client: &ClientMeta,
        now: DateTime<Utc>,
    ) -> FailureEvents {
        let event = |kind| {
            let event = NewAuthEvent::new(kind, now)
                .session(session)
                .client(client)
                .detail("during", operation);
            match account {
                Some(id) => event.user(id),
                None => event,
            }
        };
        FailureEvents {
            failed: event(AuthEventKind::LoginFailed),
            locked: event(AuthEventKind::LoginLocked),
        }
    }

    /// The same events, saying what was wrong (`password`, `otp`).
    #[must_use]
    pub fn because(self, reason: &'static str) -> FailureEvents {
        FailureEvents {
            failed: self.failed.detail("reason", reason),
            locked: self.locked,
        }
    }
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
    /// login failures, or the account is locked, or its free failures are all taken by
    /// attempts under way; else reserves the attempt's place (one conditional write, so
    /// attempts racing on any number of instances never overshoot). `account` is the
    /// account's id, or for a name no account has, the stand-in from
    /// `account_lock::account_throttle_key` (so unknown names lock like real ones), or a
    /// known device's id; `None` looks at the address only.
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
            self.login.attempt(key, now).map_err(|wait| {
                record::lockout(Lockout::Address);
                rate_limited(wait)
            })?;
        }
        let Some(account) = account else {
            return Ok(LoginAttempt { held: None });
        };
        match self.reserve(account, now).await {
            Ok(None) => Ok(LoginAttempt {
                held: Some((account, self.failures.clone())),
            }),
            // Refused before anything was tried: the address is not charged for it.
            Ok(Some(wait)) => {
                record::lockout(Lockout::Account);
                self.refund_login(ip, now);
                Err(rate_limited(wait))
            }
            Err(e) => {
                self.refund_login(ip, now);
                Err(e)
            }
        }
    }

    /// Reserves a place for one attempt on `key`; `Some(seconds to wait)` when refused.
    async fn reserve(&self, key: Uuid, now: DateTime<Utc>) -> Result<Option<u64>, AuthError> {
        let rule = self.admission(now);
        let row = match self.failures.reserve(key, &rule).await? {
            Reservation::Taken => return Ok(None),
            Reservation::Refused(row) => row,
        };
        let forget_before = rule.forget_before;
        let record = row
            .as_ref()
            .filter(|row| row.last_failure_at >= forget_before)
            .map(|row| FailureRecord {
                // A negative count can only be a hand-edited row: read it as none.
                failures: u32::try_from(row.failures).unwrap_or(0),
                last_failure_at: row.last_failure_at,
            });
        let in_flight = row
            .filter(|row| row.reserved_until.is_some_and(|until| until > now))
            .map_or(0, |row| u32::try_from(row.in_flight).unwrap_or(0));
        tracing::info!(%key, "login attempt refused: locked or its free failures are under way");
        Ok(Some(
            self.schedule.wait_when_refused(record, in_flight, now),
        ))
    }

    /// The admission rule at `now`, as values the database compares.
    fn admission(&self, now: DateTime<Utc>) -> Admission {
        let before = |lock: Duration| {
            chrono::Duration::from_std(lock)
                .ok()
                .and_then(|lock| now.checked_sub_signed(lock))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Admission {
            now,
            hold_until: chrono::Duration::from_std(ATTEMPT_HOLD)
                .ok()
                .and_then(|hold| now.checked_add_signed(hold))
                .unwrap_or(now),
            forget_before: self.schedule.forget_before(now),
            free_failures: count(self.schedule.free_failures()),
            lock_steps: self
                .schedule
                .lock_steps()
                .into_iter()
                .map(|(failures, lock)| (count(failures), before(lock)))
                .collect(),
            longest_lock_over: before(self.schedule.max_lock()),
        }
    }

    /// Counts a failed credential check (wrong password, wrong one-time password) against
    /// the attempt's key and frees its place, with one atomic write. The address's unit was
    /// taken by [`Throttle::begin_login`] and stays taken. Never fails the request: a count
    /// that cannot be written is logged.
    pub async fn login_failed(&self, attempt: LoginAttempt, ip: Option<&str>, now: DateTime<Utc>) {
        self.login_failed_recording(attempt, ip, now, None).await;
    }

    /// [`Throttle::login_failed`], writing `events` with the count in its transaction: the
    /// failure, and the lock when this failure locks the key. Returns what was written.
    pub async fn login_failed_recording(
        &self,
        mut attempt: LoginAttempt,
        ip: Option<&str>,
        now: DateTime<Utc>,
        events: Option<FailureEvents>,
    ) -> Journal {
        let Some((key, _)) = attempt.end() else {
            return Journal::new();
        };
        let forget_before = self.schedule.forget_before(now);
        let ending = Ending::Failed {
            at: now,
            forget_before,
        };
        let (mut journal, locked) = match events {
            Some(FailureEvents { failed, locked }) => (Journal::of(failed), Some(locked)),
            None => (Journal::new(), None),
        };
        let schedule = &self.schedule;
        let lock_event = |failures: u32| {
            let lock = schedule.lock_after(failures);
            let template = locked?;
            (!lock.is_zero()).then(|| {
                template
                    .detail("failures", failures)
                    .detail("lockedForSeconds", lock.as_secs())
            })
        };
        match self
            .failures
            .release_recording(key, ending, &mut journal, lock_event)
            .await
        {
            Ok(()) => tracing::info!(%key, ip, "failed login counted"),
            Err(e) => {
                tracing::error!(%key, error = %e, "could not count a failed login");
                journal = Journal::new();
            }
        }
        self.sweep_if_due(now);
        journal
    }

    /// Forgets the failures of the attempt's key and frees its place: its owner got in.
    pub async fn login_succeeded(&self, mut attempt: LoginAttempt, now: DateTime<Utc>) {
        let Some((key, _)) = attempt.end() else {
            return;
        };
        if let Err(e) = self.failures.release(key, Ending::Succeeded).await {
            tracing::error!(%key, error = %e, "could not reset failed logins");
        }
        self.sweep_if_due(now);
    }

    /// Frees the attempt's place, counting nothing: a right password whose one-time
    /// password is still to come, or an error.
    pub async fn login_abandoned(&self, mut attempt: LoginAttempt) {
        let Some((key, _)) = attempt.end() else {
            return;
        };
        if let Err(e) = self.failures.release(key, Ending::Abandoned).await {
            tracing::warn!(%key, error = %e, "could not free a login attempt");
        }
    }

    /// Deletes forgotten failure counts and idle rows, in the background, at most once
    /// per `SWEEP_INTERVAL` on this instance.
    fn sweep_if_due(&self, now: DateTime<Utc>) {
        if !self.sweep_due(now) {
            return;
        }
        let forget_before = self.schedule.forget_before(now);
        // However many rows there are, no answer waits for it.
        let table = self.failures.clone();
        tokio::spawn(async move {
            match table.sweep(forget_before, now).await {
                Ok(swept) => tracing::debug!(swept, "forgotten login failures deleted"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not delete forgotten login failures");
                }
            }
        });
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
