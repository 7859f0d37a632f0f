//! The identifiers an account is found by, and the names it carries. Each is made only by
//! `parse`, so holding one means it is valid (parse, don't validate).

use unicode_normalization::UnicodeNormalization as _;

use crate::auth::error::AuthError;

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
        let value = fold_email(raw);
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

/// An email as it is stored and compared: trimmed, NFC-normalised, lower-cased (and NFC
/// again, since lower-casing can undo it), so two spellings of `josé@example.com` (a
/// precomposed `é`, or `e` and a combining accent) are one address.
fn fold_email(raw: &str) -> String {
    let composed: String = raw.trim().nfc().collect();
    composed.to_lowercase().nfc().collect()
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
            (None, Some(e)) => LoginId::Email(fold_email(e)),
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

/// An optional first or last name: trimmed, empty means absent, no control characters.
pub fn parse_person_name(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<String>, AuthError> {
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
    fn emails_are_compared_in_nfc() {
        let composed = Email::parse("Jos\u{e9}@Example.com").unwrap();
        let decomposed = Email::parse("jos\u{65}\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(
            LoginId::parse(None, Some("JOS\u{45}\u{301}@example.com")).unwrap(),
            LoginId::Email(composed.as_str().to_owned())
        );
    }
}
