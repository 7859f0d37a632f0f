//! The only place that reads the wall clock.
//!
//! Domain functions take `now` as a parameter; the server holds a `dyn Clock` so a test
//! or a simulation can run time at its own pace.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        wall_clock()
    }
}

/// Real time that a test or a simulation moves by hand, so nothing has to wait for a lock,
/// an expiry, a grace window or a TOTP step to pass.
///
/// It reads the wall clock plus an offset: it starts equal to [`SystemClock`], and
/// [`advance`](Self::advance) and [`set`](Self::set) move the offset. Between moves it
/// keeps running at the real pace rather than standing still, so events still happen in
/// order and at distinct instants (sessions listed newest first, say), as under the real
/// clock. Share one (`Arc<ManualClock>`) between the instances of one simulated
/// deployment: they then agree on the time, as servers kept in sync by NTP do. Reading it
/// costs one relaxed atomic load on top of the wall clock; moves from any thread are seen
/// by the next read.
///
/// [`stop`](Self::stop) holds it still, for a test whose answer depends on how much time
/// passed between two requests (a budget's refill, say), which on a loaded machine would
/// otherwise be whatever the scheduler made it.
#[derive(Debug)]
pub struct ManualClock {
    /// Microseconds added to the wall clock: the resolution PostgreSQL keeps.
    offset_micros: AtomicI64,
    /// While stopped, the instant it reads (microseconds since the epoch); else `RUNNING`.
    stopped_at_micros: AtomicI64,
}

const RUNNING: i64 = i64::MIN;

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            offset_micros: AtomicI64::new(0),
            stopped_at_micros: AtomicI64::new(RUNNING),
        }
    }
}

impl ManualClock {
    /// A clock that reads the real time until it is moved.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Holds the clock at the instant it reads now; `advance` still moves it.
    pub fn stop(&self) {
        let now = self.now().timestamp_micros();
        self.stopped_at_micros.store(now, Ordering::Relaxed);
    }

    /// Moves the clock `by` forward (saturating, never panicking, at the end of time).
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        let _ = self
            .stopped_at_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |at| {
                (at != RUNNING).then(|| at.saturating_add(by))
            });
        // `fetch_update` with a closure that always answers cannot fail.
        let _ = self
            .offset_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                Some(offset.saturating_add(by))
            });
    }

    /// Puts the clock at `at`, forward or back; it runs on from there.
    pub fn set(&self, at: DateTime<Utc>) {
        let delta = at.signed_duration_since(wall_clock());
        let offset = match delta.num_microseconds() {
            // Rounded up, so that a read right after `set` is never before `at`.
            Some(micros) if delta > TimeDelta::microseconds(micros) => micros.saturating_add(1),
            Some(micros) => micros,
            None if delta > TimeDelta::zero() => i64::MAX,
            None => i64::MIN,
        };
        self.offset_micros.store(offset, Ordering::Relaxed);
        let at_micros = at.timestamp_micros().saturating_add(i64::from(
            !at.timestamp_subsec_nanos().is_multiple_of(1_000),
        ));
        let _ =
            self.stopped_at_micros
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |stopped| {
                    (stopped != RUNNING).then_some(at_micros)
                });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let stopped_at = self.stopped_at_micros.load(Ordering::Relaxed);
        if stopped_at != RUNNING {
            return DateTime::from_timestamp_micros(stopped_at).unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        let offset = self.offset_micros.load(Ordering::Relaxed);
        wall_clock()
            .checked_add_signed(TimeDelta::microseconds(offset))
            .unwrap_or(if offset > 0 {
                DateTime::<Utc>::MAX_UTC
            } else {
                DateTime::<Utc>::MIN_UTC
            })
    }
}

#[allow(clippy::disallowed_methods)]
fn wall_clock() -> DateTime<Utc> {
    Utc::now()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;

    /// How far apart two reads a few statements apart may be, even on a loaded machine.
    const SLACK: TimeDelta = TimeDelta::seconds(5);

    #[test]
    fn a_manual_clock_starts_at_the_real_time_and_runs_with_it() {
        let clock = ManualClock::new();
        let before = SystemClock.now();
        let read = clock.now();
        let after = SystemClock.now();
        assert!(before <= read && read <= after, "{before} {read} {after}");
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now() > read, "the clock stood still");
    }

    #[test]
    fn advance_moves_the_clock_forward_by_that_much() {
        let clock = ManualClock::new();
        let before = clock.now();
        clock.advance(Duration::from_secs(90));
        clock.advance(Duration::from_millis(1_500));
        let moved = clock.now().signed_duration_since(before);
        assert!(moved >= TimeDelta::milliseconds(91_500), "{moved}");
        assert!(moved < TimeDelta::milliseconds(91_500) + SLACK, "{moved}");
    }

    #[test]
    fn set_puts_the_clock_at_an_instant_forward_or_back() {
        let clock = ManualClock::new();
        for at in [
            DateTime::from_timestamp(4_000_000_000, 123_456_000).unwrap(),
            DateTime::from_timestamp(1_000_000_000, 0).unwrap(),
        ] {
            clock.set(at);
            let read = clock.now();
            assert!(at <= read && read < at + SLACK, "set {at}, read {read}");
        }
        clock.advance(Duration::from_secs(30));
        let read = clock.now();
        let expected = DateTime::from_timestamp(1_000_000_030, 0).unwrap();
        assert!(expected <= read && read < expected + SLACK, "{read}");
    }

    #[test]
    fn a_move_on_one_thread_is_seen_by_the_others() {
        let clock = Arc::new(ManualClock::new());
        let at = DateTime::from_timestamp(3_000_000_000, 0).unwrap();
        let mover = {
            let clock = clock.clone();
            std::thread::spawn(move || clock.set(at))
        };
        mover.join().unwrap();
        let shared: Arc<dyn Clock> = clock;
        assert!(shared.now() >= at);
    }

    #[test]
    fn moves_past_the_end_of_time_saturate_instead_of_panicking() {
        let clock = ManualClock::new();
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
        clock.set(DateTime::<Utc>::MIN_UTC);
        assert!(clock.now() < DateTime::from_timestamp(0, 0).unwrap());
    }

    #[test]
    fn a_stopped_clock_holds_still_until_moved() {
        let clock = ManualClock::new();
        clock.stop();
        let held = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), held);
        clock.advance(Duration::from_secs(3));
        assert_eq!(clock.now(), held + TimeDelta::seconds(3));
        let later = held + TimeDelta::days(1);
        clock.set(later);
        assert_eq!(clock.now(), later);
    }
}
