//! Parsed input values. Each is made only by `parse`, so holding one means it is valid
//! (parse, don't validate).

use std::fmt;

use super::AuthError;

/// Longest password accepted anywhere. Hashing cost does not depend on length (argon2
/// pre-hashes), but a bound keeps request handling predictable.
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const PASSWORD_MIN_CHARS: usize = 8;
const USERNAME_MIN: usize = 3;
const USERNAME_MAX: usize = 64;
/// RFC 5321's limit on a forward path.
const EMAIL_MAX: usize = 254;
const NAME_MAX: usize = 200;

/// A username as the user wrote it (trimmed): 3 to 64 of ASCII letters, digits, `.`, `_`, `-`.
/// Never contains `@`, so it can never be mistaken for an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, AuthError> {
        let value = raw.trim();
        let len = value.chars().count();
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
            return Err(AuthError::bad_input(
                "username",
                format!("must be {USERNAME_MIN} to {USERNAME_MAX} characters"),
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(AuthError::bad_input(
                "username",
                "may contain only letters, digits, `.`, `_` and `-`",
            ));
        }
        Ok(Username(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that uniqueness and lookups use.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// An email address, lower-cased. The check is deliberately loose (one `@`, a dotted
/// domain, no spaces): the only real test of an address is mail arriving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AuthError> {
        let value = raw.trim().to_lowercase();
        let invalid = || AuthError::bad_input("email", "is not a valid email address");
        if value.is_empty() || value.len() > EMAIL_MAX {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(invalid());
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a login names its account: exactly one of username or email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginId {
    Username(String),
    Email(String),
}

impl LoginId {
    /// Checks only the shape. An identifier that no account could have is not refused
    /// here: it is looked up (and not found) like any other, so answers never tell a
    /// well-formed unknown name from a malformed one.
    pub fn parse(username: Option<&str>, email: Option<&str>) -> Result<LoginId, AuthError> {
        let both_or_neither = || {
            AuthError::bad_input(
                "username",
                "give exactly one of username or email, not both or neither",
            )
        };
        let id = match (username, email) {
            (Some(u), None) => LoginId::Username(u.trim().to_ascii_lowercase()),
            (None, Some(e)) => LoginId::Email(e.trim().to_lowercase()),
            _ => return Err(both_or_neither()),
        };
        let (field, value) = match &id {
            LoginId::Username(v) => ("username", v),
            LoginId::Email(v) => ("email", v),
        };
        if value.is_empty() {
            return Err(AuthError::bad_input(field, "must not be empty"));
        }
        if value.len() > EMAIL_MAX {
            return Err(AuthError::bad_input(field, "is too long"));
        }
        // No account can hold one, and PostgreSQL refuses NUL in text outright: stop them
        // here rather than as a database error.
        if value.chars().any(char::is_control) {
            return Err(AuthError::bad_input(
                field,
                "must not contain control characters",
            ));
        }
        Ok(id)
    }
}

/// A password as typed. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// A password offered to log in: only bounded, never judged.
    pub fn presented(raw: String, field: &'static str) -> Result<Password, AuthError> {
        if raw.is_empty() {
            return Err(AuthError::bad_input(field, "must not be empty"));
        }
        if raw.chars().count() > PASSWORD_MAX_CHARS {
            return Err(AuthError::bad_input(
                field,
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        Ok(Password(raw))
    }

    /// A password being chosen: NIST SP 800-63B length rules, not the user's own name or
    /// email, and not on the list of common breached passwords. No composition rules: they
    /// make passwords weaker, not stronger.
    pub fn new_for(
        raw: String,
        field: &'static str,
        username: &Username,
        email: Option<&Email>,
    ) -> Result<Password, AuthError> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(AuthError::bad_input(
                field,
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        let password = Password::presented(raw, field)?;
        let folded = password.0.to_lowercase();
        if folded == username.key() {
            return Err(AuthError::bad_input(field, "must not be the username"));
        }
        if email.is_some_and(|e| folded == e.as_str()) {
            return Err(AuthError::bad_input(field, "must not be the email address"));
        }
        if super::password_policy::is_common(&password.0) {
            return Err(AuthError::bad_input(
                field,
                "is one of the most common passwords, which attackers try first: choose another",
            ));
        }
        Ok(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An optional first or last name: trimmed, empty means absent, no control characters.
pub fn parse_name(field: &'static str, raw: Option<&str>) -> Result<Option<String>, AuthError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > NAME_MAX {
        return Err(AuthError::bad_input(
            field,
            format!("must be at most {NAME_MAX} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AuthError::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn reason(err: AuthError) -> String {
        err.to_string()
    }

    #[test]
    fn usernames_are_trimmed_and_keyed_without_case() {
        let u = Username::parse("  Alice.B-1_ ").unwrap();
        assert_eq!(u.as_str(), "Alice.B-1_");
        assert_eq!(u.key(), "alice.b-1_");
    }

    #[test]
    fn usernames_refuse_at_signs_unicode_and_bad_lengths() {
        for bad in ["al", "a@b.com", "ålice", "has space", &"x".repeat(65), ""] {
            assert!(Username::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Username::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn emails_are_lower_cased_and_loosely_checked() {
        assert_eq!(
            Email::parse(" Bob@Example.COM ").unwrap().as_str(),
            "bob@example.com"
        );
        for bad in [
            "bob",
            "bob@",
            "@example.com",
            "bob@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn login_needs_exactly_one_identifier() {
        assert!(LoginId::parse(Some("a"), Some("b@c.d")).is_err());
        assert!(LoginId::parse(None, None).is_err());
        assert_eq!(
            LoginId::parse(Some(" Alice "), None).unwrap(),
            LoginId::Username("alice".into())
        );
        assert_eq!(
            LoginId::parse(None, Some("A@B.C")).unwrap(),
            LoginId::Email("a@b.c".into())
        );
    }

    #[test]
    fn login_identifiers_with_control_characters_are_bad_input() {
        for bad in ["a\0b", "tab\there"] {
            assert!(matches!(
                LoginId::parse(Some(bad), None),
                Err(AuthError::BadInput {
                    field: "username",
                    ..
                })
            ));
            assert!(matches!(
                LoginId::parse(None, Some(&format!("{bad}@example.com"))),
                Err(AuthError::BadInput { field: "email", .. })
            ));
        }
    }

    #[test]
    fn new_passwords_count_unicode_characters_not_bytes() {
        let user = Username::parse("alice").unwrap();
        // Seven characters, but more than eight bytes: too short.
        let err = Password::new_for("ééééééé".into(), "password", &user, None).unwrap_err();
        assert!(reason(err).contains("at least 8"));
        assert!(Password::new_for("éééééééé".into(), "password", &user, None).is_ok());
        let long = "x".repeat(PASSWORD_MAX_CHARS + 1);
        assert!(Password::new_for(long, "password", &user, None).is_err());
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
}
