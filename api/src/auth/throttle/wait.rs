//! Turning a deadline into the `retryAfter` a client is told.

use chrono::{DateTime, Utc};

/// Whole seconds from `now` until `until`, rounded up; `None` once it has passed.
pub fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    let millis = (until - now).num_milliseconds();
    if millis <= 0 {
        return None;
    }
    let millis = u64::try_from(millis).ok()?;
    Some(millis.div_ceil(1000))
}
