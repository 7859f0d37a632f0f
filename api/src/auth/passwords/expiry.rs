//! When a password stops being accepted (`password_max_age`): NIST no longer recommends
//! forced rotation, but operators under older policies need it, so it is off by default.

use std::time::Duration;

use chrono::{DateTime, Utc};

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

/// The password age rule: `None` means passwords never expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordAge {
    max_age: Option<Duration>,
}

impl PasswordAge {
    pub fn new(max_age: Option<Duration>) -> PasswordAge {
        PasswordAge { max_age }
    }

    /// When a password set at `changed_at` expires, if passwords age.
    pub fn expires_at(&self, changed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.max_age
            .and_then(|age| chrono::Duration::from_std(age).ok())
            .and_then(|age| changed_at.checked_add_signed(age))
    }

    /// Whole days, rounded up so a maximum age under a day is not reported as 0.
    pub fn max_age_days(&self) -> Option<u64> {
        self.max_age
            .map(|age| age.as_secs().div_ceil(SECONDS_PER_DAY))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_expire_max_age_after_their_change_and_never_without_one() {
        let changed = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let age = PasswordAge::new(Some(Duration::from_secs(90)));
        assert_eq!(
            age.expires_at(changed),
            DateTime::from_timestamp(1_800_000_090, 0)
        );
        assert_eq!(PasswordAge::default().expires_at(changed), None);
    }

    #[test]
    fn the_age_in_days_rounds_up() {
        assert_eq!(
            PasswordAge::new(Some(Duration::from_secs(1))).max_age_days(),
            Some(1)
        );
        assert_eq!(
            PasswordAge::new(Some(Duration::from_secs(2 * SECONDS_PER_DAY))).max_age_days(),
            Some(2)
        );
        assert_eq!(PasswordAge::default().max_age_days(), None);
    }
}
