//! Per-address budgets: how many failures (or attempts) one client address may cause per
//! minute, per kind of attempt.
//!
//! Kept in memory, per instance (DESIGN.md "Scaling out" allows it: they only slow one
//! client down, they protect no account; the account locks, in the database, do that).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::wait::seconds_until;

/// An attempt throttled per client address besides `login` (which has its own entry points).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottledAction {
    /// A `refresh` that failed (unknown, revoked or reused token): successes are free, so
    /// the refreshes of many users behind one NAT never use up anyone's budget.
    Refresh,
    /// Every `register` attempt: each costs a password hash, and a `CONFLICT` answer says a
    /// name is taken, so this caps both the load and the speed of enumeration.
    Register,
    /// Every `changePassword` attempt.
    ChangePassword,
    /// Every one-time-password check outside `login` (`confirmTotp`, `disableTotp`).
    Totp,
}

/// What uses up an action's per-address budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    /// Every attempt.
    Attempts,
    /// Only attempts that failed: each takes a unit before it runs, and a success gives
    /// it back.
    Failures,
}

impl ThrottledAction {
    pub fn counts(self) -> Counts {
        match self {
            ThrottledAction::Refresh => Counts::Failures,
            ThrottledAction::Register | ThrottledAction::ChangePassword | ThrottledAction::Totp => {
                Counts::Attempts
            }
        }
    }
}

/// A client address as throttling sees it. IPv6 clients are counted by their /64: one
/// subscriber usually holds a whole /64, and counting each address apart would hand an
/// attacker 2^64 fresh budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// `None` for something that is not an IP address (nothing to count it by).
    pub fn parse(ip: &str) -> Option<ClientKey> {
        let ip: IpAddr = ip.trim().parse().ok()?;
        Some(ClientKey(match ip {
            IpAddr::V4(_) => ip,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(prefix.into())
                }
            },
        }))
    }
}

/// The budget window: budgets are written "per minute".
const WINDOW: Duration = Duration::from_secs(60);

/// Most addresses one limiter tracks per window. Beyond it a new address is not tracked
/// (it is let through, and a warning logged) rather than everyone refused: the account
/// locks, kept in the database, still hold. Each entry is a few dozen bytes.
const MAX_TRACKED: usize = 50_000;

/// A per-address budget of `per_minute` events, refilled evenly (GCRA: one timestamp per
/// address). A full budget allows `per_minute` events at once; after that one every
/// `60 s / per_minute`.
///
/// An attempt takes its unit before it runs and gives it back if it turns out not to count
/// (a success, where only failures count): so any number of simultaneous attempts can
/// never overshoot the budget, which checking first and counting afterwards would allow.
///
/// Memory is bounded: entries live in two generations of one window each; an entry not
/// touched for a whole generation has refilled completely, so the older generation is
/// dropped wholesale, and no generation holds more than [`MAX_TRACKED`] addresses.
pub struct IpLimiter {
    per_minute: u32,
    state: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    started_at: Option<DateTime<Utc>>,
    current: HashMap<ClientKey, DateTime<Utc>>,
    previous: HashMap<ClientKey, DateTime<Utc>>,
}

impl IpLimiter {
    pub fn new(per_minute: u32) -> IpLimiter {
        IpLimiter {
            per_minute: per_minute.max(1),
            state: Mutex::new(Generations::default()),
        }
    }

    fn interval(&self) -> chrono::Duration {
        chrono::Duration::from_std(WINDOW / self.per_minute).unwrap_or_default()
    }

    /// Takes one unit of `key`'s budget, or refuses with the whole seconds to wait (and
    /// takes nothing).
    pub fn attempt(&self, key: ClientKey, now: DateTime<Utc>) -> Result<(), u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.rotate(now);
        // GCRA: `tat` is when the budget will be whole again. One more unit fits while
        // that stays within one window of now, counting the unit's own share.
        let tat = state.get(key).filter(|t| *t > now).unwrap_or(now);
        let next = tat + self.interval();
        if let Some(wait) = seconds_until(next - window(), now) {
            return Err(wait);
        }
        state.set(key, next);
        Ok(())
    }

    /// Gives back a unit taken by [`IpLimiter::attempt`] for an attempt that did not count.
    pub fn refund(&self, key: ClientKey, now: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.rotate(now);
        if let Some(tat) = state.get(key) {
            state.set(key, (tat - self.interval()).max(now));
        }
    }

    /// Addresses tracked right now (for tests of the memory bound).
    pub fn tracked(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.current.len() + state.previous.len()
    }
}

fn window() -> chrono::Duration {
    chrono::Duration::from_std(WINDOW).unwrap_or_default()
}

impl Generations {
    fn rotate(&mut self, now: DateTime<Utc>) {
        let window = window();
        match self.started_at {
            Some(started) if now < started + window => {}
            Some(started) if now < started + window + window => {
                self.previous = std::mem::take(&mut self.current);
                self.started_at = Some(now);
            }
            // The first event, or a quiet spell of two windows: everything has refilled.
            _ => {
                self.previous.clear();
                self.current.clear();
                self.started_at = Some(now);
            }
        }
    }

    fn get(&self, key: ClientKey) -> Option<DateTime<Utc>> {
        self.current
            .get(&key)
            .or_else(|| self.previous.get(&key))
            .copied()
    }

    fn set(&mut self, key: ClientKey, tat: DateTime<Utc>) {
        if self.current.len() >= MAX_TRACKED && !self.current.contains_key(&key) {
            tracing::warn!(
                limit = MAX_TRACKED,
                "too many client addresses to throttle: letting a new one through untracked"
            );
            return;
        }
        self.previous.remove(&key);
        self.current.insert(key, tat);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            ClientKey::parse("2001:db8:1:2:aaaa::1"),
            ClientKey::parse("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(
            ClientKey::parse("2001:db8:1:2::1"),
            ClientKey::parse("2001:db8:1:3::1")
        );
        assert_eq!(
            ClientKey::parse("::ffff:192.0.2.7"),
            ClientKey::parse("192.0.2.7")
        );
        assert_ne!(ClientKey::parse("192.0.2.7"), ClientKey::parse("192.0.2.8"));
        assert_eq!(ClientKey::parse("not an address"), None);
    }

    fn key(s: &str) -> ClientKey {
        ClientKey::parse(s).unwrap()
    }

    #[test]
    fn an_address_gets_its_whole_budget_at_once_then_one_per_interval() {
        let limiter = IpLimiter::new(3); // one every 20 s
        let ip = key("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.attempt(ip, at(0)), Ok(()));
        }
        assert_eq!(limiter.attempt(ip, at(0)), Err(20));
        assert_eq!(limiter.attempt(ip, at(15)), Err(5));
        assert_eq!(limiter.attempt(ip, at(20)), Ok(()));
        assert_eq!(limiter.attempt(ip, at(20)), Err(20));
        // A full window after the last one the budget is whole again.
        for _ in 0..3 {
            assert_eq!(limiter.attempt(ip, at(80)), Ok(()));
        }
        assert_eq!(limiter.attempt(ip, at(80)), Err(20));
    }

    #[test]
    fn addresses_have_budgets_of_their_own() {
        let limiter = IpLimiter::new(1);
        assert_eq!(limiter.attempt(key("192.0.2.1"), at(0)), Ok(()));
        assert_eq!(limiter.attempt(key("192.0.2.1"), at(0)), Err(60));
        assert_eq!(limiter.attempt(key("192.0.2.2"), at(0)), Ok(()));
    }

    #[test]
    fn refused_attempts_take_nothing() {
        let limiter = IpLimiter::new(2); // one every 30 s
        let ip = key("192.0.2.1");
        assert_eq!(limiter.attempt(ip, at(0)), Ok(()));
        assert_eq!(limiter.attempt(ip, at(0)), Ok(()));
        for _ in 0..100 {
            assert_eq!(limiter.attempt(ip, at(0)), Err(30));
        }
        assert_eq!(limiter.attempt(ip, at(30)), Ok(()));
    }

    #[test]
    fn refunded_attempts_do_not_count_but_attempts_in_flight_do() {
        let limiter = IpLimiter::new(2);
        let ip = key("192.0.2.1");
        // Two attempts in flight at once: a third must wait, whatever they turn out to be.
        assert_eq!(limiter.attempt(ip, at(0)), Ok(()));
        assert_eq!(limiter.attempt(ip, at(0)), Ok(()));
        assert_eq!(limiter.attempt(ip, at(0)), Err(30));
        // One succeeds and gives its unit back: the next may go.
        limiter.refund(ip, at(1));
        assert_eq!(limiter.attempt(ip, at(1)), Ok(()));
        // Any number of successes in a row never use the budget up.
        for _ in 0..100 {
            limiter.refund(ip, at(2));
        }
        for _ in 0..100 {
            assert_eq!(limiter.attempt(ip, at(2)), Ok(()));
            limiter.refund(ip, at(2));
        }
    }

    #[test]
    fn a_refund_for_an_address_never_seen_is_harmless() {
        let limiter = IpLimiter::new(1);
        limiter.refund(key("192.0.2.1"), at(0));
        assert_eq!(limiter.tracked(), 0);
        assert_eq!(limiter.attempt(key("192.0.2.1"), at(0)), Ok(()));
        assert_eq!(limiter.attempt(key("192.0.2.1"), at(0)), Err(60));
    }

    #[test]
    fn quiet_addresses_are_forgotten_so_memory_stays_bounded() {
        let limiter = IpLimiter::new(5);
        for i in 0..100u8 {
            limiter
                .attempt(key(&format!("192.0.2.{i}")), at(0))
                .unwrap();
        }
        assert_eq!(limiter.tracked(), 100);
        // One window on: they move to the older generation, still remembered...
        limiter.attempt(key("198.51.100.1"), at(61)).unwrap();
        assert_eq!(limiter.tracked(), 101);
        // ...and another window on they are gone.
        limiter.attempt(key("198.51.100.1"), at(122)).unwrap();
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn an_address_spent_just_before_a_rotation_is_still_refused_after_it() {
        let limiter = IpLimiter::new(1);
        limiter.attempt(key("192.0.2.9"), at(0)).unwrap(); // starts the generation
        let ip = key("192.0.2.1");
        limiter.attempt(ip, at(59)).unwrap(); // spent until 119
        limiter.attempt(key("192.0.2.8"), at(61)).unwrap(); // rotates: ip is now older
        assert_eq!(limiter.attempt(ip, at(61)), Err(58));
    }

    #[test]
    fn a_full_generation_lets_new_addresses_through_untracked() {
        let limiter = IpLimiter::new(1);
        for i in 0..MAX_TRACKED {
            let octets = u32::try_from(i).unwrap().to_be_bytes();
            let ip = IpAddr::from([10, octets[1], octets[2], octets[3]]);
            limiter.attempt(ClientKey(ip), at(0)).unwrap();
        }
        let newcomer = key("192.0.2.1");
        assert_eq!(limiter.attempt(newcomer, at(0)), Ok(()));
        assert_eq!(limiter.attempt(newcomer, at(0)), Ok(()));
        assert_eq!(limiter.tracked(), MAX_TRACKED);
        // Addresses already tracked keep their state.
        assert_eq!(limiter.attempt(key("10.0.0.0"), at(0)), Err(60));
    }
}
