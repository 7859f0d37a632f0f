//! A password as typed, and the rules a new one must pass (NIST SP 800-63B 5.1.1.2):
//! length in characters, not the account's own name or email, not a common breached
//! password. No composition rules: they make passwords weaker, not stronger.
//!
//! Passwords are normalised to NFKC before anything else (5.1.1.2 again): the same
//! password typed on another keyboard or system (a precomposed `é` or `e` and a combining
//! accent, a full-width letter, a ligature) is the same password.

use std::fmt;

use crate::auth::accounts::identifiers::{Email, Username};
use crate::auth::error::AuthError;
use unicode_normalization::UnicodeNormalization as _;

use crate::auth::secret::{ExposeSecret, SecretString};

/// Longest password accepted anywhere. Hashing cost does not depend on length (argon2
/// pre-hashes), but a bound keeps request handling predictable.
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const PASSWORD_MIN_CHARS: usize = 8;

/// A password, normalised (NFKC). `Debug` never shows it; its memory is zeroed when
/// dropped.
#[derive(Clone)]
pub struct Password {
    normalised: SecretString,
    /// As typed, when that differs from the normalised form: a hash made before passwords
    /// were normalised was made from this, so it is tried too (and the hash replaced).
    as_typed: Option<SecretString>,
}

impl Password {
    /// A password offered to log in: only bounded, never judged.
    pub fn presented(raw: SecretString, field: &'static str) -> Result<Password, AuthError> {
        let normalised = SecretString::from(raw.expose_secret().nfkc().collect::<String>());
        if normalised.expose_secret().is_empty() {
            return Err(AuthError::bad_input(field, "must not be empty"));
        }
        if normalised.expose_secret().chars().count() > PASSWORD_MAX_CHARS {
            return Err(AuthError::bad_input(
                field,
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        let as_typed = (normalised.expose_secret() != raw.expose_secret()).then_some(raw);
        Ok(Password {
            normalised,
            as_typed,
        })
    }

    /// A password being chosen: NIST SP 800-63B length rules, not the user's own name or
    /// email, and not on the list of common breached passwords. No composition rules: they
    /// make passwords weaker, not stronger.
    pub fn new_for(
        raw: SecretString,
        field: &'static str,
        username: &Username,
        email: Option<&Email>,
    ) -> Result<Password, AuthError> {
        let password = Password::presented(raw, field)?;
        if password.expose().chars().count() < PASSWORD_MIN_CHARS {
            return Err(AuthError::bad_input(
                field,
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        let folded = SecretString::from(password.expose().to_lowercase());
        let folded = folded.expose_secret();
        if folded == username.key() {
            return Err(AuthError::bad_input(field, "must not be the username"));
        }
        if email.is_some_and(|e| folded == e.as_str()) {
            return Err(AuthError::bad_input(field, "must not be the email address"));
        }
        if super::common::is_common(password.expose()) {
            return Err(AuthError::bad_input(
                field,
                "is one of the most common passwords, which attackers try first: choose another",
            ));
        }
        Ok(password)
    }

    /// The normalised password: what is hashed and compared.
    pub fn expose(&self) -> &str {
        self.normalised.expose_secret()
    }

    /// The password as typed, if normalising changed it.
    pub fn as_typed(&self) -> Option<&str> {
        self.as_typed.as_ref().map(ExposeSecret::expose_secret)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reason(err: AuthError) -> String {
        err.to_string()
    }

    #[test]
    fn new_passwords_count_unicode_characters_not_bytes() {
        let user = Username::parse("alice").unwrap();
        // Seven characters, but more than eight bytes: too short.
        let err = Password::new_for("ééééééé".into(), "password", &user, None).unwrap_err();
        assert!(reason(err).contains("at least 8"));
        assert!(Password::new_for("éééééééé".into(), "password", &user, None).is_ok());
        let long = "x".repeat(PASSWORD_MAX_CHARS + 1);
        assert!(Password::new_for(long.into(), "password", &user, None).is_err());
    }

    #[test]
    fn new_passwords_may_not_be_the_username_or_email() {
        let user = Username::parse("LongUsername").unwrap();
        let email = Email::parse("someone@example.com").unwrap();
        assert!(Password::new_for("longusername".into(), "p", &user, Some(&email)).is_err());
        assert!(Password::new_for("SOMEONE@example.com".into(), "p", &user, Some(&email)).is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::presented("hunter2hunter2".into(), "password").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn passwords_are_compared_in_nfkc() {
        let typed =
            Password::presented("ﬁne ｐａｓｓ caf\u{65}\u{301}".into(), "password").unwrap();
        let plain = Password::presented("fine pass café".into(), "password").unwrap();
        assert_eq!(typed.expose(), plain.expose());
        assert!(typed.as_typed().is_some());
        assert!(plain.as_typed().is_none());
    }
}
