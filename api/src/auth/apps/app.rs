//! An app (a project with an API key), the browser origins it may call from, and the rule
//! a `POST /graphql` must pass (API.md "Project API keys"). [`check`] is the rule itself;
//! the HTTP layer only gathers its inputs.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::origin::{InvalidOrigin, Origin};
use crate::auth::secret::TokenHash;
use crate::store::StoreError;
use crate::store::apps::AppRow;

/// The type prefix of every project API key.
pub const KEY_PREFIX: &str = "lka_";

/// Longest app name.
const NAME_MAX_CHARS: usize = 64;

/// An app's name, as the operator refers to it: 1 to 64 ASCII letters, digits, `.`, `_`
/// and `-`, compared exactly (letter case counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(raw: &str) -> Result<AppName, AppError> {
        let name = raw.trim();
        let fail = |reason| AppError::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
            return Err(fail("it must be 1 to 64 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(fail("use only letters, digits, `.`, `_` and `-`"));
        }
        Ok(AppName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What went wrong managing apps; every message is fit for an operator.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid app name `{name}`: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error(transparent)]
    InvalidOrigin(#[from] InvalidOrigin),
    #[error("an app needs at least one allowed origin")]
    NoOrigins,
    #[error("an app named `{0}` already exists")]
    NameTaken(String),
    #[error("no app named `{0}`")]
    NotFound(String),
    #[error("database error")]
    Store(#[source] StoreError),
}

/// An app as the server knows it. `Debug` leaves out the key hash.
#[derive(Clone)]
pub struct App {
    pub id: Uuid,
    pub name: String,
    pub(super) key_hash: TokenHash,
    /// `lka_` and the first characters of the key: enough to recognise it in a listing.
    pub key_prefix: String,
    pub origins: Vec<Origin>,
    pub require_origin: bool,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("key_prefix", &self.key_prefix)
            .field("origins", &self.origins)
            .field("require_origin", &self.require_origin)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Whether a request with this `Origin` header (if any) may use this app's key.
    /// An origin that does not parse (`null`, garbage) matches nothing.
    pub fn admits(&self, origin: Option<&str>) -> Result<(), Refusal> {
        match origin {
            None if self.require_origin => Err(Refusal::OriginRequired),
            None => Ok(()),
            Some(raw) => match Origin::parse(raw) {
                Ok(origin) if self.origins.contains(&origin) => Ok(()),
                _ => Err(Refusal::OriginNotAllowed),
            },
        }
    }

    pub(super) fn from_row(row: AppRow) -> App {
        let origins = row
            .origins
            .lines()
            .filter(|line| !line.trim().is_empty())
            .filter_map(|line| match Origin::parse(line) {
                Ok(origin) => Some(origin),
                Err(e) => {
                    // Fail closed: an origin we cannot read allows nothing.
                    tracing::warn!(app = %row.name, error = %e, "ignoring an unreadable stored origin");
                    None
                }
            })
            .collect();
        App {
            id: row.id,
            name: row.name,
            key_hash: TokenHash::from_stored(row.key_hash.expose().to_owned()),
            key_prefix: row.key_prefix,
            origins,
            require_origin: row.require_origin,
            created_at: row.created_at,
        }
    }
}

/// What a request presented, after looking its key up.
#[derive(Debug, Clone, Copy)]
pub enum PresentedKey<'a> {
    /// No key in the request.
    Absent,
    /// A key that is malformed or belongs to no app.
    Unknown,
    Known(&'a App),
}

/// Why the API-key gate refused a request; each names the rule it broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "missing API key: send the project's key in the x-api-key header or the key query parameter"
    )]
    MissingKey,
    #[error("unknown API key")]
    UnknownKey,
    #[error("origin not allowed for this API key")]
    OriginNotAllowed,
    #[error("origin required: this API key only accepts requests that carry an Origin header")]
    OriginRequired,
}

impl Refusal {
    /// A short, stable name for logs.
    pub fn rule(self) -> &'static str {
        match self {
            Refusal::MissingKey => "missing_key",
            Refusal::UnknownKey => "unknown_key",
            Refusal::OriginNotAllowed => "origin_not_allowed",
            Refusal::OriginRequired => "origin_required",
        }
    }
}

/// The API-key rule. With keys `required`, a request needs a key; a key that is sent is
/// checked whether or not keys are required (a wrong key is a mistake worth reporting,
/// never silently ignored); a known key's app then judges the `Origin` header.
pub fn check(required: bool, key: PresentedKey<'_>, origin: Option<&str>) -> Result<(), Refusal> {
    match key {
        PresentedKey::Absent if required => Err(Refusal::MissingKey),
        PresentedKey::Absent => Ok(()),
        PresentedKey::Unknown => Err(Refusal::UnknownKey),
        PresentedKey::Known(app) => app.admits(origin),
    }
}

/// An app named `web` with a fresh key, for tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_app(origins: &[&str], require_origin: bool) -> App {
    App {
        id: Uuid::nil(),
        name: "web".into(),
        key_hash: crate::auth::secret::OpaqueSecret::generate(KEY_PREFIX).hash(),
        key_prefix: "lka_abcdefgh".into(),
        origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
        require_origin,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn app(origins: &[&str], require_origin: bool) -> App {
        test_app(origins, require_origin)
    }

    #[test]
    fn app_names_are_short_plain_identifiers() {
        assert_eq!(
            AppName::parse(" web-app_1.0 ").unwrap().as_str(),
            "web-app_1.0"
        );
        assert!(AppName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "   ", "has space", "naïve", "a/b", &"a".repeat(65)] {
            assert!(
                matches!(AppName::parse(bad), Err(AppError::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn without_required_keys_a_request_with_no_key_passes() {
        assert_eq!(check(false, PresentedKey::Absent, None), Ok(()));
        assert_eq!(
            check(false, PresentedKey::Absent, Some("https://evil.example")),
            Ok(())
        );
    }

    #[test]
    fn with_required_keys_a_request_with_no_key_is_refused() {
        assert_eq!(
            check(true, PresentedKey::Absent, Some("https://a.example.com")),
            Err(Refusal::MissingKey)
        );
    }

    #[test]
    fn an_unknown_key_is_refused_whether_or_not_keys_are_required() {
        for required in [true, false] {
            assert_eq!(
                check(required, PresentedKey::Unknown, None),
                Err(Refusal::UnknownKey)
            );
        }
    }

    #[test]
    fn a_known_key_passes_from_its_origins_and_without_an_origin() {
        let app = app(&["https://a.example.com", "http://localhost:3000"], false);
        for origin in [
            None,
            Some("https://a.example.com"),
            Some("HTTPS://A.EXAMPLE.COM:443"),
            Some("http://localhost:3000"),
        ] {
            assert_eq!(
                check(true, PresentedKey::Known(&app), origin),
                Ok(()),
                "{origin:?}"
            );
        }
    }

    #[test]
    fn a_known_key_from_another_origin_is_refused() {
        let app = app(&["https://a.example.com"], false);
        for origin in [
            "https://b.example.com",
            "http://a.example.com",
            "https://a.example.com:8443",
            "null",
            "",
        ] {
            assert_eq!(
                check(false, PresentedKey::Known(&app), Some(origin)),
                Err(Refusal::OriginNotAllowed),
                "{origin:?}"
            );
        }
    }

    #[test]
    fn an_app_that_requires_an_origin_refuses_requests_without_one() {
        let app = app(&["https://a.example.com"], true);
        assert_eq!(
            check(true, PresentedKey::Known(&app), None),
            Err(Refusal::OriginRequired)
        );
        assert_eq!(
            check(
                true,
                PresentedKey::Known(&app),
                Some("https://a.example.com")
            ),
            Ok(())
        );
    }

    #[test]
    fn every_refusal_message_names_its_rule() {
        assert!(
            Refusal::MissingKey
                .to_string()
                .starts_with("missing API key")
        );
        assert!(
            Refusal::UnknownKey
                .to_string()
                .starts_with("unknown API key")
        );
        assert!(
            Refusal::OriginNotAllowed
                .to_string()
                .starts_with("origin not allowed")
        );
        assert!(
            Refusal::OriginRequired
                .to_string()
                .starts_with("origin required")
        );
    }

    #[test]
    fn debug_never_shows_the_key_hash() {
        let app = app(&["https://a.example.com"], false);
        assert!(!format!("{app:?}").contains(app.key_hash.as_str()));
    }
}
