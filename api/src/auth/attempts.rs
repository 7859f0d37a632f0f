//! The authenticator's throttling entry points: `login`, `changePassword` and one-time
//! password checks call these around every credential check; `refresh` and `register` call
//! them per client address.
//!
//! The rules are in [`super::throttle`]; this file only decides where each piece of state
//! lives (account failures in the database, address budgets in memory) and turns a refusal
//! into [`AuthError::RateLimited`].

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AuthError;
use super::service::Authenticator;
use super::throttle::{
    ClientKey, Counts, FailureRecord, IpLimiter, LockSchedule, ThrottledAction, unknown_account_key,
};
use super::values::LoginId;
use crate::config::Settings;

/// Forgotten failure counts are deleted at most this often per instance.
const SWEEP_INTERVAL: chrono::Duration = chrono::Duration::hours(1);

/// Throttling state held by one instance: the lock schedule, and one address budget per
/// kind of attempt (so sign-ups do not use up the budget of logins).
pub struct Throttle {
    schedule: LockSchedule,
    login: IpLimiter,
    refresh: IpLimiter,
    register: IpLimiter,
    change_password: IpLimiter,
    totp: IpLimiter,
    last_sweep: Mutex<Option<DateTime<Utc>>>,
}

impl Throttle {
    pub fn new(settings: &Settings) -> Throttle {
        let per_minute = settings.ip_failures_per_minute;
        Throttle {
            schedule: LockSchedule::new(settings.login_free_failures, settings.login_lock_max),
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

    /// Whether a sweep is due; if so, claims it.
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

/// Whether the account had failed logins counted when its attempt began (what
/// [`Authenticator::login_throttle_check`] saw), so a success clears them only if so.
#[derive(Debug, Clone, Copy)]
#[must_use = "hand it to `login_succeeded` after a success"]
pub(crate) struct PriorFailures(bool);

fn rate_limited(retry_after_secs: u64) -> AuthError {
    AuthError::RateLimited { retry_after_secs }
}

fn client(ip: Option<&str>) -> Option<ClientKey> {
    ip.and_then(ClientKey::parse)
}

impl Authenticator {
    /// Refuses a credential check before it runs when the client address has used up its
    /// login failures, or the account is locked. `user_id` is the account's id, or for a
    /// name no account has, the stand-in from [`account_throttle_key`] (so unknown names
    /// lock like real ones); `None` looks at the address only.
    ///
    /// The attempt takes its unit of the address budget here, so simultaneous attempts
    /// cannot overshoot it; an attempt that did not fail gives it back with
    /// [`Authenticator::login_ip_refund`].
    pub(crate) async fn login_throttle_check(
        &self,
        user_id: Option<Uuid>,
        ip: Option<&str>,
    ) -> Result<PriorFailures, AuthError> {
        let now = self.now();
        if let Some(key) = client(ip) {
            self.throttle
                .login
                .attempt(key, now)
                .map_err(rate_limited)?;
        }
        let locked = match user_id {
            Some(account) => self.account_lock(account, now).await,
            None => Ok((None, PriorFailures(false))),
        };
        match locked {
            Ok((None, prior)) => Ok(prior),
            // Refused before anything was tried: the address is not charged for it.
            Ok((Some(wait), _)) => {
                self.login_ip_refund(ip);
                Err(rate_limited(wait))
            }
            Err(e) => {
                self.login_ip_refund(ip);
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
    ) -> Result<(Option<u64>, PriorFailures), AuthError> {
        let record = self
            .store
            .login_throttle
            .find(account)
            .await?
            .map(|row| FailureRecord {
                // A negative count can only be a hand-edited row: read it as none.
                failures: u32::try_from(row.failures).unwrap_or(0),
                last_failure_at: row.last_failure_at,
            });
        let prior = PriorFailures(record.is_some());
        Ok((self.throttle.schedule.retry_after(record, now), prior))
    }

    /// Counts a failed credential check (wrong password, wrong one-time password) against
    /// the account, with one atomic write. The address's unit was taken by the check and
    /// stays taken. Never fails the request: a count that cannot be written is logged.
    pub(crate) async fn login_failed(&self, user_id: Option<Uuid>, ip: Option<&str>) {
        let Some(account) = user_id else { return };
        let now = self.now();
        let forget_before = self.throttle.schedule.forget_before(now);
        match self
            .store
            .login_throttle
            .record_failure(account, now, forget_before)
            .await
        {
            Ok(()) => tracing::info!(%account, ip, "failed login counted"),
            Err(e) => tracing::error!(%account, error = %e, "could not count a failed login"),
        }
        if self.throttle.sweep_due(now) {
            // In the background: however many rows there are, no answer waits for it.
            let table = self.store.login_throttle.clone();
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
    /// [`Authenticator::login_throttle_check`] found failures counted: almost every login
    /// has none. A failure counted while this attempt's password was being checked raced
    /// with it, and is taken as coming after the success: it stays counted.
    pub(crate) async fn login_succeeded(&self, user_id: Uuid, prior: PriorFailures) {
        if !prior.0 {
            return;
        }
        if let Err(e) = self.store.login_throttle.clear(user_id).await {
            tracing::error!(account = %user_id, error = %e, "could not reset failed logins");
        }
    }

    /// Gives back the address unit [`Authenticator::login_throttle_check`] took, for an
    /// attempt that did not fail: a success, or a right password whose one-time password
    /// is still to come. Only failures use up an address's budget.
    pub(crate) fn login_ip_refund(&self, ip: Option<&str>) {
        if let Some(key) = client(ip) {
            self.throttle.login.refund(key, self.now());
        }
    }

    /// Refuses `action` when the client address has used up its budget for it, else takes
    /// one unit. For an action that counts only failures (`Refresh`), give the unit back
    /// after a success with [`Authenticator::ip_succeeded`]. A request without an address
    /// (not over TCP) is not limited.
    pub(crate) fn throttle_ip(
        &self,
        action: ThrottledAction,
        ip: Option<&str>,
    ) -> Result<(), AuthError> {
        match client(ip) {
            Some(key) => self
                .throttle
                .limiter(action)
                .attempt(key, self.now())
                .map_err(rate_limited),
            None => Ok(()),
        }
    }

    /// Gives back the unit `throttle_ip` took, if `action` counts only failures.
    pub(crate) fn ip_succeeded(&self, action: ThrottledAction, ip: Option<&str>) {
        if action.counts() == Counts::Failures
            && let Some(key) = client(ip)
        {
            self.throttle.limiter(action).refund(key, self.now());
        }
    }
}

/// The key an account's failed logins are counted under: its id when it exists, else a
/// stand-in derived from the identifier as typed (normalised), so a name no account has is
/// counted, locked and answered exactly like a real one.
pub(crate) fn account_throttle_key(found: Option<Uuid>, id: &LoginId) -> Uuid {
    found.unwrap_or_else(|| match id {
        LoginId::Username(key) => unknown_account_key(&format!("username:{key}")),
        LoginId::Email(email) => unknown_account_key(&format!("email:{email}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_usernames_and_emails_get_distinct_stable_stand_ins() {
        let by_name = LoginId::Username("alice".into());
        let by_email = LoginId::Email("alice".into());
        let a = account_throttle_key(None, &by_name);
        assert_eq!(a, account_throttle_key(None, &by_name));
        assert_ne!(a, account_throttle_key(None, &by_email));
        let real = Uuid::now_v7();
        assert_eq!(account_throttle_key(Some(real), &by_name), real);
    }
}
