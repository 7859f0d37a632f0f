//! Account locks: how long an account stays locked after consecutive failed logins, and
//! the stand-in key under which a name no account has is counted.
//!
//! Pure rules with `now` as a parameter; the failure counts live in the database
//! (`store::throttle`), so every instance sees the same lock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::wait::seconds_until;
use crate::auth::accounts::identifiers::LoginId;

/// Failed logins are forgotten this long after the longest lock they could have caused has
/// ended, if no other failure came meanwhile: an account attacked last week is not locked
/// for the maximum time at its owner's next typo. An attacker gains nothing by waiting for
/// it: a day of silence buys back the few free failures that the maximum lock would have
/// allowed in an hour.
pub const FAILURES_FORGOTTEN_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Above this exponent the doubling has long passed any allowed cap (2^40 s is 35,000
/// years); stopping here keeps the arithmetic far from overflowing.
const MAX_DOUBLINGS: u32 = 40;

/// The lock schedule: `free_failures` consecutive failures cost nothing; the next locks the
/// account for 1 s, each further one doubles the lock, up to `max_lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockSchedule {
    free_failures: u32,
    max_lock: Duration,
}

/// How an account stands: its consecutive failures and when the last one happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureRecord {
    pub failures: u32,
    pub last_failure_at: DateTime<Utc>,
}

impl LockSchedule {
    pub fn new(free_failures: u32, max_lock: Duration) -> LockSchedule {
        LockSchedule {
            free_failures,
            max_lock,
        }
    }

    /// How long the account is locked right after its `failures`-th consecutive failure.
    pub fn lock_after(&self, failures: u32) -> Duration {
        let Some(beyond) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        let doubled = Duration::from_secs(1u64 << beyond.min(MAX_DOUBLINGS));
        doubled.min(self.max_lock)
    }

    /// The locks shorter than the longest, one per failure count beyond the free ones:
    /// `(failures, lock)`. Every larger count is locked for `max_lock`.
    pub fn lock_steps(&self) -> Vec<(u32, Duration)> {
        (0..=MAX_DOUBLINGS)
            .map(|beyond| self.free_failures.saturating_add(beyond))
            .map(|failures| (failures, self.lock_after(failures)))
            .take_while(|(_, lock)| *lock < self.max_lock)
            .collect()
    }

    pub fn free_failures(&self) -> u32 {
        self.free_failures
    }

    pub fn max_lock(&self) -> Duration {
        self.max_lock
    }

    /// Whole seconds a refused attempt is told to wait: until the lock ends if the key is
    /// locked; else (its free failures are all taken by attempts under way) as long as the
    /// lock those attempts would cause if they all failed, and at least a second.
    pub fn wait_when_refused(
        &self,
        record: Option<FailureRecord>,
        in_flight: u32,
        now: DateTime<Utc>,
    ) -> u64 {
        if let Some(wait) = self.retry_after(record, now) {
            return wait;
        }
        let failures = record.map_or(0, |r| r.failures);
        let lock = self.lock_after(failures.saturating_add(in_flight));
        lock.as_secs().max(1)
    }

    /// Failures older than this (with none since) are forgotten: the next one counts as
    /// the first again.
    pub fn forget_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let quiet = self.max_lock.saturating_add(FAILURES_FORGOTTEN_AFTER);
        chrono::Duration::from_std(quiet)
            .ok()
            .and_then(|quiet| now.checked_sub_signed(quiet))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whole seconds until the account may try again (rounded up, so a client that waits
    /// that long is never refused), or `None` when it is not locked.
    pub fn retry_after(&self, record: Option<FailureRecord>, now: DateTime<Utc>) -> Option<u64> {
        let record = record?;
        let lock = self.lock_after(record.failures);
        // Not locked, even if that failure was stamped a moment after our `now` (by a
        // request that finished while this one was starting, or by another instance).
        if lock.is_zero() {
            return None;
        }
        let lock = chrono::Duration::from_std(lock).ok()?;
        let until = record.last_failure_at.checked_add_signed(lock)?;
        seconds_until(until, now)
    }
}

/// The throttling key of a login identifier that no account has. It is used exactly like an
/// account id, so an unknown name is counted and locked like a real one, and neither the
/// answers nor the work done tell the two apart. A version-8 UUID, so it can never be the
/// (version-7) id of a real account.
pub fn unknown_account_key(login_key: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"latchkey unknown account\0")
        .chain_update(login_key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    for (out, byte) in bytes.iter_mut().zip(digest.iter()) {
        *out = *byte;
    }
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The key an account's failed logins are counted under: its id when it exists, else a
/// stand-in derived from the identifier as typed (normalised), so a name no account has is
/// counted, locked and answered exactly like a real one.
pub fn account_throttle_key(found: Option<Uuid>, id: &LoginId) -> Uuid {
    found.unwrap_or_else(|| match id {
        LoginId::Username(key) => unknown_account_key(&format!("username:{key}")),
        LoginId::Email(email) => unknown_account_key(&format!("email:{email}")),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn at_millis(millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + millis).unwrap()
    }

    fn defaults() -> LockSchedule {
        LockSchedule::new(5, Duration::from_secs(15 * 60))
    }

    #[test]
    fn the_free_failures_cost_nothing_then_the_lock_doubles_from_one_second() {
        let s = defaults();
        for n in 0..5 {
            assert_eq!(s.lock_after(n), Duration::ZERO, "{n}");
        }
        let locks: Vec<u64> = (5..=14).map(|n| s.lock_after(n).as_secs()).collect();
        assert_eq!(locks, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    }

    #[test]
    fn the_lock_stops_growing_at_the_maximum() {
        let s = defaults();
        assert_eq!(s.lock_after(15), Duration::from_secs(900));
        assert_eq!(s.lock_after(1_000), Duration::from_secs(900));
        assert_eq!(s.lock_after(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn a_locked_account_says_how_long_to_wait_rounded_up() {
        let s = defaults();
        let record = FailureRecord {
            failures: 7, // locked 4 s
            last_failure_at: at(0),
        };
        assert_eq!(s.retry_after(Some(record), at(0)), Some(4));
        assert_eq!(s.retry_after(Some(record), at_millis(2_500)), Some(2));
        assert_eq!(s.retry_after(Some(record), at_millis(3_999)), Some(1));
        assert_eq!(s.retry_after(Some(record), at(4)), None);
        assert_eq!(s.retry_after(None, at(0)), None);
    }

    #[test]
    fn an_account_under_the_free_failures_is_never_locked() {
        let s = defaults();
        let record = FailureRecord {
            failures: 4,
            last_failure_at: at(0),
        };
        assert_eq!(s.retry_after(Some(record), at(0)), None);
        // A failure recorded just after `now` (a racing request) does not lock either.
        assert_eq!(s.retry_after(Some(record), at_millis(-5)), None);
    }

    #[test]
    fn the_lock_steps_list_every_lock_shorter_than_the_longest() {
        let steps: Vec<(u32, u64)> = defaults()
            .lock_steps()
            .into_iter()
            .map(|(n, lock)| (n, lock.as_secs()))
            .collect();
        assert_eq!(
            steps,
            [
                (5, 1),
                (6, 2),
                (7, 4),
                (8, 8),
                (9, 16),
                (10, 32),
                (11, 64),
                (12, 128),
                (13, 256),
                (14, 512)
            ]
        );
        let one_second = LockSchedule::new(3, Duration::from_secs(1));
        assert!(one_second.lock_steps().is_empty());
    }

    #[test]
    fn a_refusal_for_attempts_under_way_waits_for_the_lock_they_would_cause() {
        let s = defaults();
        // Five attempts under way on a clean account: if all fail, it is locked for 1 s.
        assert_eq!(s.wait_when_refused(None, 5, at(0)), 1);
        let record = FailureRecord {
            failures: 5,
            last_failure_at: at(-10),
        };
        // Lock over, one attempt under way: it would make the lock 2 s.
        assert_eq!(s.wait_when_refused(Some(record), 1, at(0)), 2);
        // Still locked: the lock's own end.
        assert_eq!(s.wait_when_refused(Some(record), 0, at(-10)), 1);
    }

    #[test]
    fn failures_are_forgotten_a_day_after_the_longest_lock() {
        let s = defaults();
        assert_eq!(s.forget_before(at(100_000)), at(100_000 - 900 - 86_400));
    }

    #[test]
    fn unknown_names_get_stable_keys_that_no_account_can_have() {
        let a = unknown_account_key("alice");
        assert_eq!(a, unknown_account_key("alice"));
        assert_ne!(a, unknown_account_key("alice@example.com"));
        assert_eq!(a.get_version_num(), 8);
        assert_ne!(Uuid::now_v7().get_version_num(), 8);
    }

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
