//! Project API keys: apps, the browser origins each may call from, and the rules a
//! `POST /graphql` must pass (API.md "Project API keys").
//!
//! An operator creates an app with `latchkey app add`; its key (`lka_...`) is shown once
//! and stored only as its SHA-256. [`AppRegistry`] keeps every app in memory, re-read
//! every minute and at once (at most once a second) when a well-formed key it does not
//! know arrives, so checking a key costs no database round trip. [`check`] is the rule
//! itself; the HTTP layer only gathers its inputs. Nothing here knows about HTTP.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::secret::{OpaqueSecret, TokenHash};
use crate::store::apps::{AppRow, NewApp};
use crate::store::{Store, StoreError};

/// The type prefix of every project API key.
pub const KEY_PREFIX: &str = "lka_";

/// Longest app name.
const NAME_MAX_CHARS: usize = 64;

/// A key (or a preflight's origin) the cache does not know re-reads the apps at most this
/// often, so a stream of made-up keys cannot turn into a stream of database reads.
const UNKNOWN_KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// A browser origin, `scheme://host[:port]`, as browsers send it in the `Origin` header:
/// `http` or `https`, lower-cased, no path, query or fragment, no default port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

/// Why a text is not an [`Origin`]; names the text, which is never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{origin}` is not an origin like https://app.example.com: {reason}")]
pub struct InvalidOrigin {
    origin: String,
    reason: &'static str,
}

impl Origin {
    /// Parses and normalises an origin: `HTTPS://App.Example.com:443` and
    /// `https://app.example.com/` are both `https://app.example.com`. `*` and `null` are
    /// refused: the first would allow everyone, the second is what sandboxed frames and
    /// `file:` pages send, so anyone can produce it.
    pub fn parse(raw: &str) -> Result<Origin, InvalidOrigin> {
        let text = raw.trim();
        let fail = |reason| InvalidOrigin {
            origin: text.to_owned(),
            reason,
        };
        if text == "*" {
            return Err(fail("`*` would allow every site: list each origin"));
        }
        if text.eq_ignore_ascii_case("null") {
            return Err(fail(
                "`null` is sent by sandboxed and local pages, so anyone can send it",
            ));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| fail("it needs a scheme, http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(fail("the scheme must be http or https")),
        };
        // A lone trailing slash (copied from an address bar) is the empty path: dropped.
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(fail("an origin has no path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(fail("an origin has no user name or password"));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| fail("the host is missing or malformed"))?;
        let port = match port {
            None => None,
            Some(digits) => {
                let number = digits
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0 && digits.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| fail("the port must be a number from 1 to 65535"))?;
                (number != default_port).then_some(number)
            }
        };
        let host = host.to_ascii_lowercase();
        Ok(Origin(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `host[:port]` or `[ipv6][:port]`, each part checked for the characters it may hold.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']')?;
        let valid = !inside.is_empty()
            && inside.contains(':')
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !valid {
            return None;
        }
        let host = authority.get(..inside.len() + 2)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let valid = !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !valid {
            return None;
        }
        (host, port)
    };
    Some((host, port))
}

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
    key_hash: TokenHash,
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

    fn from_row(row: AppRow) -> App {
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
            key_hash: TokenHash::from_stored(row.key_hash),
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

/// A new app and its key, shown this once.
#[derive(Debug)]
pub struct CreatedApp {
    pub app: App,
    pub key: OpaqueSecret,
}

/// Creates an app with a fresh key; the key is stored only as its hash.
pub async fn create(
    store: &Store,
    name: &str,
    origins: &[String],
    require_origin: bool,
    now: DateTime<Utc>,
) -> Result<CreatedApp, AppError> {
    let name = AppName::parse(name)?;
    let mut parsed: Vec<Origin> = Vec::with_capacity(origins.len());
    for raw in origins {
        let origin = Origin::parse(raw)?;
        if !parsed.contains(&origin) {
            parsed.push(origin);
        }
    }
    if parsed.is_empty() {
        return Err(AppError::NoOrigins);
    }
    let key = OpaqueSecret::generate(KEY_PREFIX);
    let row = store
        .apps
        .insert(NewApp {
            id: Uuid::now_v7(),
            name: name.as_str().to_owned(),
            key_hash: key.hash().as_str().to_owned(),
            key_prefix: key.shown_prefix(KEY_PREFIX),
            origins: parsed
                .iter()
                .map(Origin::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            require_origin,
            now,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::NameTaken(name.as_str().to_owned()),
            other => AppError::Store(other),
        })?;
    tracing::info!(app = %row.name, "app created");
    Ok(CreatedApp {
        app: App::from_row(row),
        key,
    })
}

/// Every app, by name.
pub async fn list(store: &Store) -> Result<Vec<App>, AppError> {
    let rows = store.apps.all().await.map_err(AppError::Store)?;
    Ok(rows.into_iter().map(App::from_row).collect())
}

/// Deletes the app with this name. Running servers stop accepting its key when they next
/// re-read the apps (within [`AppRegistry::RELOAD_INTERVAL`]).
pub async fn delete(store: &Store, name: &str) -> Result<(), AppError> {
    let name = name.trim();
    if store
        .apps
        .delete_by_name(name)
        .await
        .map_err(AppError::Store)?
    {
        tracing::info!(app = %name, "app deleted");
        Ok(())
    } else {
        Err(AppError::NotFound(name.to_owned()))
    }
}

/// Every app, indexed by key hash, plus the union of their origins (for CORS).
#[derive(Default)]
struct Snapshot {
    by_hash: HashMap<String, Arc<App>>,
    origins: HashSet<Origin>,
}

impl Snapshot {
    fn of(apps: Vec<App>) -> Snapshot {
        let origins = apps
            .iter()
            .flat_map(|app| app.origins.iter().cloned())
            .collect();
        let by_hash = apps
            .into_iter()
            .map(|app| (app.key_hash.as_str().to_owned(), Arc::new(app)))
            .collect();
        Snapshot { by_hash, origins }
    }

    /// Found by hash, then confirmed in constant time.
    fn find(&self, hash: &TokenHash) -> Option<Arc<App>> {
        self.by_hash
            .get(hash.as_str())
            .filter(|app| app.key_hash.matches(hash))
            .cloned()
    }
}

/// Every app, in memory. Lookups never touch the database, except that a well-formed key
/// the cache does not know triggers a re-read (at most once a second), so an app added a
/// moment ago by `latchkey app add` works at once.
pub struct AppRegistry {
    store: Store,
    snapshot: RwLock<Arc<Snapshot>>,
    /// When the last re-read started. The lock also serialises re-reads, so an older read
    /// can never replace a newer one, and makes concurrent unknown keys share one re-read.
    last_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl AppRegistry {
    /// How often a running server re-reads the apps, so `app delete` takes effect and
    /// origin changes reach CORS without a restart.
    pub const RELOAD_INTERVAL: Duration = Duration::from_secs(60);

    /// Reads every app.
    pub async fn load(store: Store) -> Result<AppRegistry, AppError> {
        let registry = AppRegistry {
            store,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            last_reload: tokio::sync::Mutex::new(None),
        };
        registry.reload().await?;
        Ok(registry)
    }

    /// Re-reads every app. If the database cannot be read, the apps known before stay.
    pub async fn reload(&self) -> Result<(), AppError> {
        let mut last = self.last_reload.lock().await;
        self.reload_now(&mut last).await
    }

    async fn reload_now(&self, last: &mut Option<Instant>) -> Result<(), AppError> {
        *last = Some(Instant::now());
        let snapshot = Snapshot::of(list(&self.store).await?);
        let mut current = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(snapshot);
        Ok(())
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The app this key belongs to. A key the cache does not know waits for a re-read
    /// (see [`AppRegistry::reread_after_miss`]), so an app added a moment ago is found.
    pub async fn resolve(&self, key: &OpaqueSecret) -> Option<Arc<App>> {
        let hash = key.hash();
        if let Some(app) = self.current().find(&hash) {
            return Some(app);
        }
        self.reread_after_miss(Instant::now()).await;
        self.current().find(&hash)
    }

    /// Whether some app allows this origin, as of the last re-read (for CORS, which must
    /// answer without waiting).
    pub fn allows_origin(&self, origin: &Origin) -> bool {
        self.current().origins.contains(origin)
    }

    /// Like [`AppRegistry::allows_origin`], but an origin no app is known to allow waits for
    /// a re-read first, so a preflight from an app added a moment ago is answered.
    pub async fn allows_origin_now(&self, origin: &Origin) -> bool {
        if self.allows_origin(origin) {
            return true;
        }
        self.reread_after_miss(Instant::now()).await;
        self.allows_origin(origin)
    }

    /// Makes sure a re-read has started since `missed_at`: one already started by a
    /// concurrent miss serves, else this one starts it, at once or when a second has
    /// passed since the last, whichever is later. So any app added before the miss is
    /// known afterwards, and made-up keys or origins cost at most one read a second.
    async fn reread_after_miss(&self, missed_at: Instant) {
        let mut last = self.last_reload.lock().await;
        if last.is_some_and(|started| started >= missed_at) {
            return;
        }
        if let Some(started) = *last {
            let next = started + UNKNOWN_KEY_RELOAD_INTERVAL;
            tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
        }
        if let Err(e) = self.reload_now(&mut last).await {
            tracing::warn!(error = %format!("{e:#}"), "could not re-read the apps");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn origin(raw: &str) -> String {
        Origin::parse(raw).unwrap().as_str().to_owned()
    }

    fn app(origins: &[&str], require_origin: bool) -> App {
        App {
            id: Uuid::nil(),
            name: "web".into(),
            key_hash: OpaqueSecret::generate(KEY_PREFIX).hash(),
            key_prefix: "lka_abcdefgh".into(),
            origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
            require_origin,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn origins_are_lower_cased_and_lose_default_ports_and_a_trailing_slash() {
        assert_eq!(origin("HTTPS://App.Example.COM"), "https://app.example.com");
        assert_eq!(
            origin("https://app.example.com:443"),
            "https://app.example.com"
        );
        assert_eq!(origin("http://localhost:80/"), "http://localhost");
        assert_eq!(origin("http://localhost:3000"), "http://localhost:3000");
        assert_eq!(
            origin("https://a.example.com:80"),
            "https://a.example.com:80"
        );
        assert_eq!(origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin("http://[::1]:5173"), "http://[::1]:5173");
        assert_eq!(origin("https://[2001:DB8::1]"), "https://[2001:db8::1]");
        assert_eq!(origin("  https://a.example.com  "), "https://a.example.com");
    }

    #[test]
    fn wildcards_null_other_schemes_and_anything_after_the_host_are_refused() {
        for bad in [
            "*",
            "null",
            "NULL",
            "",
            "app.example.com",
            "ftp://a.example.com",
            "file:///etc/passwd",
            "https://",
            "https://a.example.com/app",
            "https://a.example.com//",
            "https://a.example.com?x=1",
            "https://a.example.com#top",
            "https://user@a.example.com",
            "https://a.example.com:",
            "https://a.example.com:0",
            "https://a.example.com:65536",
            "https://a.example.com:+80",
            "https://a.example.com:8080:1",
            "https://a example.com",
            "https://*.example.com",
            "https://[::1",
            "https://[zz::1]",
            "https://.example.com",
            "https://bücher.example",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn an_invalid_origin_names_itself_and_the_reason() {
        let err = Origin::parse("https://a.example.com/app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`https://a.example.com/app`"), "{err}");
        assert!(err.contains("no path"), "{err}");
        let err = Origin::parse("*").unwrap_err().to_string();
        assert!(err.contains("list each origin"), "{err}");
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
    fn the_snapshot_finds_a_key_by_its_hash_and_knows_every_origin() {
        let key = OpaqueSecret::generate(KEY_PREFIX);
        let mut known = app(&["https://a.example.com"], false);
        known.key_hash = key.hash();
        let other = app(&["https://b.example.com"], false);
        let snapshot = Snapshot::of(vec![known, other]);
        assert_eq!(snapshot.find(&key.hash()).unwrap().name, "web");
        assert!(
            snapshot
                .find(&OpaqueSecret::generate(KEY_PREFIX).hash())
                .is_none()
        );
        assert!(
            snapshot
                .origins
                .contains(&Origin::parse("https://b.example.com").unwrap())
        );
        assert!(
            !snapshot
                .origins
                .contains(&Origin::parse("https://c.example.com").unwrap())
        );
    }

    #[test]
    fn debug_never_shows_the_key_hash() {
        let app = app(&["https://a.example.com"], false);
        assert!(!format!("{app:?}").contains(app.key_hash.as_str()));
    }
}
