//! Typed settings: built-in defaults, then `latchkey.toml`, then the environment.
//!
//! [`RawSettings`] is what an operator writes (durations as `15m`, origins as a
//! comma-separated list); [`Settings::from_raw`] checks every value and names the
//! setting that is wrong, so a bad configuration stops the start with a clear message.

pub mod mail;
mod proxies;
mod query_limits;
mod raw;
mod secret_files;
mod values;
mod webauthn;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};

use secrecy::SecretString;

pub use proxies::ForwardedHeader;
use raw::NON_SETTING_VARS;
pub use raw::{DEFAULT_DATABASE_URL, RawSettings};
pub use values::{
    BootstrapAdmin, ConfigError, CookieSettings, HashingSettings, LogFormat, SameSite,
};
use values::{cookie_name, invalid, parse_duration};
pub use webauthn::WebauthnSettings;

/// The configuration file read when neither `--config` nor `LATCHKEY_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "latchkey.toml";

/// Checked settings: every value here is usable as it is.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    /// May carry a password, so it is a secret (`Store::connect` redacts it in messages).
    pub database_url: SecretString,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    /// How long an ended session (and its refresh tokens) is kept before it is deleted.
    pub session_retention: Duration,
    /// How long security events are kept in `auth_events` before they are deleted.
    pub event_retention: Duration,
    /// The longest a verified session or personal token is answered from this instance's
    /// memory before it is read again (`auth::credential_cache`); the bound on staleness
    /// when changes cannot be heard from other processes.
    pub session_cache_ttl: Duration,
    /// How many verified sessions and personal tokens each instance keeps; 0 turns the
    /// cache off.
    pub session_cache_size: u64,
    /// The longest a personal token lives; a later or absent `expiresAt` is clamped to it.
    pub auth_header_max_ttl: Duration,
    /// How recently a session must have fully authenticated (password, plus OTP where
    /// on) for operations that create or remove a long-lived credential or a factor.
    pub reauth_window: Duration,
    pub refresh_reuse_grace: Duration,
    pub password_max_age: Option<Duration>,
    pub signup: bool,
    pub admin: Option<BootstrapAdmin>,
    pub issuer: String,
    pub audience: String,
    /// A PEM (PKCS#8) Ed25519 private key that signs every access token, instead of the
    /// keys kept in the database. Rotating it is the operator's job (replace the file).
    pub signing_key_file: Option<PathBuf>,
    /// 32 random bytes (64 hex characters) that seal the private signing keys and the
    /// TOTP secrets in the database (`store::sealing`). Unset: they are stored as they are.
    pub secret_key_file: Option<PathBuf>,
    pub cookies: CookieSettings,
    /// Origins allowed by CORS besides every app's own, as written (trimmed, no empty
    /// entries). The HTTP layer parses them at start and names this setting if one is not
    /// an origin.
    pub cors_origins: Vec<String>,
    /// Peers whose `forwarded_header` is believed about the client's address (empty: none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub forwarded_header: ForwardedHeader,
    /// Whether `/metrics` is served at all.
    pub metrics: bool,
    /// Where `/metrics` is served instead of the main listener, if set.
    pub metrics_bind: Option<String>,
    pub api_keys_required: bool,
    pub graphiql: bool,
    pub introspection: bool,
    pub batching: bool,
    pub max_body_bytes: usize,
    /// The deepest a selection may nest (introspection has its own, fixed bound).
    pub max_query_depth: usize,
    /// The most fields an operation may select, fragments expanded, each field costing 1.
    pub max_query_complexity: usize,
    /// The most aliased fields an operation may select, fragments expanded.
    pub max_query_aliases: usize,
    pub max_query_operations: usize,
    pub max_query_fragments: usize,
    /// The most tokens a document may have (names, punctuation, strings, numbers).
    pub max_query_tokens: usize,
    /// The most directives one field, spread or inline fragment may carry.
    pub max_field_directives: usize,
    /// The most variables a request may carry, and an operation may define.
    pub max_variables: usize,
    /// How deep a variable's value may nest lists and objects (a scalar is 1 level).
    pub max_variable_depth: usize,
    pub max_variable_string_bytes: usize,
    /// The most items a list, or fields an object, in a variable's value may have.
    pub max_variable_list_length: usize,
    /// Consecutive failed logins an account may have before it is locked.
    pub login_free_failures: u32,
    /// The longest lock; locks double from 1 s up to it.
    pub login_lock_max: Duration,
    /// How long a browser stays a known device of an account after its last successful
    /// login there (and the device cookie's `Max-Age`).
    pub known_device_ttl: Duration,
    /// Failures one client address may cause per minute (per action, per instance).
    pub ip_failures_per_minute: u32,
    pub log_format: LogFormat,
    pub auto_migrate: bool,
    /// After SIGTERM, how long in-flight requests (and the mail worker's round) may take
    /// to finish before the process exits anyway.
    pub shutdown_grace: Duration,
    /// The longest a query waits for a database connection (or to open one) before it
    /// fails with `SERVICE_UNAVAILABLE`: a database that is down answers fast, not late.
    pub database_acquire_timeout: Duration,
    /// Sent back in the `X-Latchkey-Instance` response header when set, so an operator
    /// (and the cluster check) can tell which instance behind a balancer answered.
    pub instance_name: Option<String>,
    pub hashing: HashingSettings,
    pub mail: mail::MailSettings,
    pub webauthn: webauthn::WebauthnSettings,
    pub webhooks: webhooks::WebhookSettings,
}

/// Access tokens live between these bounds, so `expires` (milliseconds) fits a GraphQL `Int`.
const ACCESS_TTL_MIN: Duration = Duration::from_secs(10);
const ACCESS_TTL_MAX: Duration = Duration::from_secs(24 * 60 * 60);
/// An ended session is kept at least this long, so a refresh token replayed soon after
/// the end is still recognised (and refused as what it is).
const SESSION_RETENTION_MIN: Duration = Duration::from_secs(60 * 60);
/// Shorter than this and an event could be gone before anyone looked.
const EVENT_RETENTION_MIN: Duration = Duration::from_secs(60 * 60);
/// The longest `session_cache_ttl`: past it, a revocation unheard by an instance lasts too long.
const SESSION_CACHE_TTL_MAX: Duration = Duration::from_secs(60);
const AUTH_HEADER_MAX_TTL_MIN: Duration = Duration::from_secs(60 * 60);
/// Shorter than this and a user could not finish a form after re-entering the password;
/// longer than a day and "recent" no longer means anything.
const REAUTH_WINDOW_MIN: Duration = Duration::from_secs(10);
const REAUTH_WINDOW_MAX: Duration = Duration::from_secs(24 * 60 * 60);
/// Locks start at 1 s, and no lock may last longer than a day: an owner is never locked
/// out for good.
const LOCK_MAX_MIN: Duration = Duration::from_secs(1);
const LOCK_MAX_MAX: Duration = Duration::from_secs(24 * 60 * 60);
/// A known device lasts at least a day, and at most the 400 days browsers cap a cookie's
/// life at.
const KNOWN_DEVICE_TTL_MIN: Duration = Duration::from_secs(24 * 60 * 60);
const KNOWN_DEVICE_TTL_MAX: Duration = Duration::from_secs(400 * 24 * 60 * 60);
/// A stop that takes longer than this is a hang, not a drain.
const SHUTDOWN_GRACE_MAX: Duration = Duration::from_secs(10 * 60);
/// Shorter and a busy but healthy pool would refuse requests; longer and a request waits
/// on a database that is gone for longer than a client waits for an answer.
const ACQUIRE_TIMEOUT_MIN: Duration = Duration::from_millis(100);
const ACQUIRE_TIMEOUT_MAX: Duration = Duration::from_secs(60);

impl Settings {
    /// Defaults, then the configuration file, then the environment.
    ///
    /// `config_path` is `--config`; without it `LATCHKEY_CONFIG`, then `latchkey.toml`
    /// in the working directory if it exists. A file named explicitly must exist.
    pub fn load(config_path: Option<&Path>) -> Result<Settings, ConfigError> {
        let explicit = config_path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("LATCHKEY_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
        match explicit {
            Some(path) if !path.is_file() => return Err(ConfigError::MissingFile { path }),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        let raw: RawSettings = figment
            .merge(Env::prefixed("LATCHKEY_").ignore(NON_SETTING_VARS))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        Settings::from_raw(raw)
    }

    /// Checks every value, naming the first setting that is wrong.
    pub fn from_raw(mut raw: RawSettings) -> Result<Settings, ConfigError> {
        secret_files::apply(&mut raw)?;
        let database_url = raw
            .database_url
            .take()
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let trusted_proxies = proxies::parse_trusted(&raw.trusted_proxies)?;
        let forwarded_header = proxies::parse_header(&raw.forwarded_header)?;
        let metrics_bind = raw
            .metrics_bind
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned);
        query_limits::check(&raw)?;
        let mail = mail::parse(&raw)?;
        let webauthn = webauthn::parse(&raw)?;
        let webhooks = webhooks::parse(&raw)?;
        let access_token_ttl = parse_duration("access_token_ttl", &raw.access_token_ttl)?;
        if !(ACCESS_TTL_MIN..=ACCESS_TTL_MAX).contains(&access_token_ttl) {
            return Err(invalid("access_token_ttl", "must lie between 10s and 24h"));
        }
        let session_ttl = parse_duration("session_ttl", &raw.session_ttl)?;
        if session_ttl < access_token_ttl {
            return Err(invalid(
                "session_ttl",
                "must be at least as long as access_token_ttl",
            ));
        }
        let session_retention = parse_duration("session_retention", &raw.session_retention)?;
        if session_retention < SESSION_RETENTION_MIN {
            return Err(invalid(
                "session_retention",
                "must be at least 1h: a replayed refresh token is recognised only while its session is kept",
            ));
        }
        let event_retention = parse_duration("event_retention", &raw.event_retention)?;
        if event_retention < EVENT_RETENTION_MIN {
            return Err(invalid(
                "event_retention",
                "must be at least 1h: an account's owner must be able to look at what just happened",
            ));
        }
        let session_cache_ttl = parse_duration("session_cache_ttl", &raw.session_cache_ttl)?;
        if session_cache_ttl > SESSION_CACHE_TTL_MAX {
            return Err(invalid(
                "session_cache_ttl",
                "must be at most 1m: it bounds how long a revoked credential may still work on an instance that cannot hear the change",
            ));
        }
        let auth_header_max_ttl = parse_duration("auth_header_max_ttl", &raw.auth_header_max_ttl)?;
        if auth_header_max_ttl < AUTH_HEADER_MAX_TTL_MIN {
            return Err(invalid("auth_header_max_ttl", "must be at least 1h"));
        }
        let reauth_window = parse_duration("reauth_window", &raw.reauth_window)?;
        if !(REAUTH_WINDOW_MIN..=REAUTH_WINDOW_MAX).contains(&reauth_window) {
            return Err(invalid("reauth_window", "must lie between 10s and 24h"));
        }
        let refresh_reuse_grace = parse_duration("refresh_reuse_grace", &raw.refresh_reuse_grace)?;
        if refresh_reuse_grace > Duration::from_secs(300) {
            return Err(invalid("refresh_reuse_grace", "must be at most 5m"));
        }
        let password_max_age = raw
            .password_max_age
            .as_deref()
            .map(|v| parse_duration("password_max_age", v))
            .transpose()?;
        if password_max_age == Some(Duration::ZERO) {
            return Err(invalid(
                "password_max_age",
                "must be longer than 0s (leave it unset for never)",
            ));
        }

        let admin = match (raw.admin_username, raw.admin_password) {
            (Some(username), Some(password)) => Some(BootstrapAdmin {
                username,
                password: password.into(),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    "admin_password",
                    "is required when admin_username is set",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "admin_username",
                    "is required when admin_password is set",
                ));
            }
        };

        let same_site = match raw.cookie_same_site.to_ascii_lowercase().as_str() {
            "lax" => SameSite::Lax,
            "strict" => SameSite::Strict,
            "none" => SameSite::None,
            _ => {
                return Err(invalid(
                    "cookie_same_site",
                    "must be `lax`, `strict` or `none`",
                ));
            }
        };
        if same_site == SameSite::None && !raw.cookie_secure {
            return Err(invalid(
                "cookie_same_site",
                "`none` needs `cookie_secure = true`: browsers drop SameSite=None cookies that are not Secure",
            ));
        }
        let cookies = CookieSettings {
            secure: raw.cookie_secure,
            same_site,
            access_name: cookie_name(
                "cookie_access_name",
                &raw.cookie_access_name,
                raw.cookie_secure,
            )?,
            refresh_name: cookie_name(
                "cookie_refresh_name",
                &raw.cookie_refresh_name,
                raw.cookie_secure,
            )?,
            device_name: cookie_name(
                "cookie_device_name",
                &raw.cookie_device_name,
                raw.cookie_secure,
            )?,
        };
        let names = [
            &cookies.access_name,
            &cookies.refresh_name,
            &cookies.device_name,
        ];
        if names[0] == names[1] || names[0] == names[2] || names[1] == names[2] {
            return Err(invalid(
                "cookie_device_name",
                "cookie_access_name, cookie_refresh_name and cookie_device_name must differ",
            ));
        }
        let known_device_ttl = parse_duration("known_device_ttl", &raw.known_device_ttl)?;
        if !(KNOWN_DEVICE_TTL_MIN..=KNOWN_DEVICE_TTL_MAX).contains(&known_device_ttl) {
            return Err(invalid("known_device_ttl", "must lie between 1d and 400d"));
        }

        let cors_origins = raw
            .cors_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        for (key, value) in [("issuer", &raw.issuer), ("audience", &raw.audience)] {
            if value.trim().is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        if raw.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        if raw.login_free_failures == 0 {
            return Err(invalid("login_free_failures", "must be at least 1"));
        }
        let login_lock_max = parse_duration("login_lock_max", &raw.login_lock_max)?;
        if !(LOCK_MAX_MIN..=LOCK_MAX_MAX).contains(&login_lock_max) {
            return Err(invalid(
                "login_lock_max",
                "must lie between 1s (the first lock) and 24h (no lock lasts longer)",
            ));
        }
        if raw.ip_failures_per_minute == 0 {
            return Err(invalid("ip_failures_per_minute", "must be at least 1"));
        }
        let signing_key_file = optional_path(raw.signing_key_file.as_deref());
        let secret_key_file = optional_path(raw.secret_key_file.as_deref());
        let log_format = match raw.log_format.to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(invalid("log_format", "must be `text` or `json`")),
        };
        if database_url.trim().is_empty() {
            return Err(invalid("database_url", "must not be empty"));
        }
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite: or postgres://",
            ));
        }
        let shutdown_grace = parse_duration("shutdown_grace", &raw.shutdown_grace)?;
        if shutdown_grace > SHUTDOWN_GRACE_MAX {
            return Err(invalid("shutdown_grace", "must be at most 10m"));
        }
        let database_acquire_timeout =
            parse_duration("database_acquire_timeout", &raw.database_acquire_timeout)?;
        if !(ACQUIRE_TIMEOUT_MIN..=ACQUIRE_TIMEOUT_MAX).contains(&database_acquire_timeout) {
            return Err(invalid(
                "database_acquire_timeout",
                "must lie between 100ms and 60s",
            ));
        }
        let instance_name = match raw.instance_name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) if is_instance_name(name) => Some(name.to_owned()),
            Some(_) => {
                return Err(invalid(
                    "instance_name",
                    "must be 1 to 64 characters: letters, digits, `.`, `_` and `-`",
                ));
            }
        };
        let hashing = HashingSettings {
            memory_kib: raw.hash_memory_kib,
            iterations: raw.hash_iterations,
            parallelism: raw.hash_parallelism,
            concurrency: raw.hash_concurrency,
        };
        if hashing.concurrency == 0 {
            return Err(invalid("hash_concurrency", "must be at least 1"));
        }

        Ok(Settings {
            bind: raw.bind,
            database_url: database_url.into(),
            access_token_ttl,
            session_ttl,
            session_retention,
            event_retention,
            session_cache_ttl,
            session_cache_size: raw.session_cache_size,
            auth_header_max_ttl,
            reauth_window,
            refresh_reuse_grace,
            password_max_age,
            signup: raw.signup,
            admin,
            issuer: raw.issuer,
            audience: raw.audience,
            signing_key_file,
            secret_key_file,
            cookies,
            cors_origins,
            trusted_proxies,
            forwarded_header,
            metrics: raw.metrics,
            metrics_bind,
            api_keys_required: raw.api_keys_required,
            graphiql: raw.graphiql,
            introspection: raw.introspection,
            batching: raw.batching,
            max_body_bytes: raw.max_body_bytes,
            max_query_depth: raw.max_query_depth,
            max_query_complexity: raw.max_query_complexity,
            max_query_aliases: raw.max_query_aliases,
            max_query_operations: raw.max_query_operations,
            max_query_fragments: raw.max_query_fragments,
            max_query_tokens: raw.max_query_tokens,
            max_field_directives: raw.max_field_directives,
            max_variables: raw.max_variables,
            max_variable_depth: raw.max_variable_depth,
            max_variable_string_bytes: raw.max_variable_string_bytes,
            max_variable_list_length: raw.max_variable_list_length,
            login_free_failures: raw.login_free_failures,
            login_lock_max,
            known_device_ttl,
            ip_failures_per_minute: raw.ip_failures_per_minute,
            log_format,
            auto_migrate: raw.auto_migrate,
            shutdown_grace,
            database_acquire_timeout,
            instance_name,
            hashing,
            mail,
            webauthn,
            webhooks,
        })
    }

    /// The defaults, bound to a random loopback port, on the given database.
    /// Cookies are not `Secure` so a test client over plain HTTP keeps them.
    pub fn for_tests(database_url: impl Into<String>) -> Settings {
        let raw = RawSettings {
            bind: "127.0.0.1:0".into(),
            database_url: Some(database_url.into()),
            cookie_secure: false,
            // Mail written by tests that do not read it goes to the temporary directory,
            // never into the working tree.
            mail_dir: std::env::temp_dir()
                .join("latchkey-test-mail")
                .display()
                .to_string(),
            ..RawSettings::default()
        };
        match Settings::from_raw(raw) {
            Ok(settings) => settings,
            // The defaults are checked by the unit tests below; this cannot happen.
            Err(e) => unreachable!("test settings are invalid: {e}"),
        }
    }
}

/// An instance name fits in a response header as it is, and says nothing but a name.
fn is_instance_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A path setting: an empty value means unset.
fn optional_path(value: Option<&str>) -> Option<PathBuf> {
    match value.map(str::trim) {
        None | Some("") => None,
        Some(path) => Some(PathBuf::from(path)),
    }
}

#[cfg(test)]
mod tests;
