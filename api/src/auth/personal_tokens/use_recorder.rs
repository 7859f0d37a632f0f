//! How often a personal token's `lastUsedAt` is written.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// `lastUsedAt` is written at most this often per token, not on every request.
pub const RECORD_USE_EVERY: Duration = Duration::from_secs(60);

/// Remembers, per token, when this instance last recorded a use, so `lastUsedAt` costs a
/// write at most once a minute per token rather than one per request. (The write itself is
/// conditional too, so several instances do not multiply it.)
#[derive(Debug, Default)]
pub struct UseRecorder {
    last: Mutex<HashMap<Uuid, Instant>>,
}

/// Entries kept before old ones are swept out.
const RECORDER_SWEEP_AT: usize = 10_000;

impl UseRecorder {
    /// Whether a use of `id` should be written now; if so, counts it as written.
    pub fn is_due(&self, id: Uuid) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last
            .get(&id)
            .is_some_and(|at| now.duration_since(*at) < RECORD_USE_EVERY)
        {
            return false;
        }
        if last.len() >= RECORDER_SWEEP_AT {
            last.retain(|_, at| now.duration_since(*at) < RECORD_USE_EVERY);
        }
        last.insert(id, now);
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_use_is_recorded_once_per_interval_per_token() {
        let recorder = UseRecorder::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(recorder.is_due(a));
        assert!(!recorder.is_due(a));
        assert!(recorder.is_due(b));
    }
}
