//! The rule that turns down common passwords (NIST SP 800-63B, 5.1.1.2: "passwords
//! obtained from previous breach corpuses").
//!
//! The list ships inside the binary (`data/common-passwords.txt`, see `data/README.md`)
//! and is compared without regard to case, so `Password1!`-style capitalisation of a
//! listed password does not get through. Length and the other rules live in
//! `password.rs` with the rest of `Password`.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::auth::secret::{ExposeSecret as _, SecretString};

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("data/common-passwords.txt")
        .lines()
        .filter(|line| !line.is_empty())
        .collect()
});

/// Whether `password` is on the list of common, breached passwords.
pub fn is_common(password: &str) -> bool {
    let folded = SecretString::from(password.to_lowercase());
    COMMON.contains(folded.expose_secret())
}

/// How many passwords the list holds (reported by `authPolicy` consumers and tests).
pub fn common_count() -> usize {
    COMMON.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_well_over_ten_thousand_passwords() {
        assert!(common_count() >= 10_000, "{}", common_count());
    }

    #[test]
    fn listed_passwords_are_refused_in_any_case() {
        for common in ["password", "PassWord", "12345678", "iloveyou", "qwertyuiop"] {
            assert!(is_common(common), "{common}");
        }
    }

    #[test]
    fn an_unlisted_passphrase_is_not_common() {
        assert!(!is_common("correct horse battery staple 42"));
        assert!(!is_common("Пароль-который-никто-не-угадает"));
    }
}
