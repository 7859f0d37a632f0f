//! Typed settings: built-in defaults, then `latchkey.toml`, then the environment.
//!
//! [`RawSettings`] is what an operator writes (durations as `15m`, origins as a
//! comma-separated list); [`Settings::from_raw`] checks every value and names the
//! setting that is wrong, so a bad configuration stops the start with a clear message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::auth::apps::Origin;
use crate::auth::password::HashingParams;

/// The configuration file read when neither `--config` nor `LATCHKEY_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "latchkey.toml";

/// Environment variables with the `LATCHKEY_` prefix that are not settings.
const NON_SETTING_VARS: &[&str] = &["config", "new_password"];

/// Settings as written in `latchkey.toml` or the environment, before checking.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSettings {
    pub bind: String,
    pub database_url: String,
    pub access_token_ttl: String,
    pub session_ttl: String,
    pub refresh_reuse_grace: String,
    pub password_max_age: Option<String>,
    pub signup: bool,
    pub admin_username: Option<String>,
    pub admin_password: Option<String>,
    pub issuer: String,
    pub audience: String,
    pub signing_key_file: Option<String>,
    pub cookie_secure: bool,
    pub cookie_same_site: String,
    pub cookie_access_name: String,
    pub cookie_refresh_name: String,
    pub cors_origins: String,
    pub api_keys_required: bool,
    pub graphiql: bool,
    pub introspection: bool,
    pub batching: bool,
    pub max_body_bytes: usize,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub login_free_failures: u32,
    pub login_lock_max: String,
    pub ip_failures_per_minute: u32,
    pub log_format: String,
    pub auto_migrate: bool,
    pub hash_memory_kib: u32,
    pub hash_iterations: u32,
    pub hash_parallelism: u32,
    pub hash_concurrency: usize,
}

impl Default for RawSettings {
    fn default() -> Self {
        let hashing = HashingParams::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://latchkey.db?mode=rwc".into(),
            access_token_ttl: "15m".into(),
            session_ttl: "30d".into(),
            refresh_reuse_grace: "10s".into(),
            password_max_age: None,
            signup: true,
            admin_username: None,
            admin_password: None,
            issuer: "latchkey".into(),
            audience: "latchkey".into(),
            signing_key_file: None,
            cookie_secure: true,
            cookie_same_site: "lax".into(),
            cookie_access_name: "latchkey_access".into(),
            cookie_refresh_name: "latchkey_refresh".into(),
            cors_origins: String::new(),
            api_keys_required: false,
            graphiql: true,
            introspection: true,
            batching: false,
            max_body_bytes: 64 * 1024,
            max_query_depth: 12,
            max_query_complexity: 250,
            login_free_failures: 5,
            login_lock_max: "15m".into(),
            ip_failures_per_minute: 30,
            log_format: "text".into(),
            auto_migrate: true,
            hash_memory_kib: hashing.memory_kib,
            hash_iterations: hashing.iterations,
            hash_parallelism: hashing.parallelism,
            hash_concurrency: hashing.concurrency,
        }
    }
}

/// A setting that cannot be used, named as the operator wrote it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid setting `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("configuration file {path}: not found")]
    MissingFile { path: PathBuf },
    #[error("{0}")]
    Load(Box<figment::Error>),
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// How the two token cookies are written.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    pub secure: bool,
    pub same_site: SameSite,
    /// Final names, `__Host-` prefix included when `secure`.
    pub access_name: String,
    pub refresh_name: String,
}

/// A username and password for the first admin, created at start if no admin exists.
#[derive(Clone)]
pub struct BootstrapAdmin {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Checked settings: every value here is usable as it is.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub database_url: String,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub password_max_age: Option<Duration>,
    pub signup: bool,
    pub admin: Option<BootstrapAdmin>,
    pub issuer: String,
    pub audience: String,
    /// A PEM (PKCS#8) Ed25519 private key that signs every access token, instead of the
    /// keys kept in the database. Rotating it is the operator's job (replace the file).
    pub signing_key_file: Option<PathBuf>,
    pub cookies: CookieSettings,
    /// Origins allowed by CORS besides every app's own, normalised.
    pub cors_origins: Vec<Origin>,
    pub api_keys_required: bool,
    pub graphiql: bool,
    pub introspection: bool,
    pub batching: bool,
    pub max_body_bytes: usize,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    /// Consecutive failed logins an account may have before it is locked.
    pub login_free_failures: u32,
    /// The longest lock; locks double from 1 s up to it.
    pub login_lock_max: Duration,
    /// Failures one client address may cause per minute (per action, per instance).
    pub ip_failures_per_minute: u32,
    pub log_format: LogFormat,
    pub auto_migrate: bool,
    pub hashing: HashingParams,
}

/// Access tokens live between these bounds, so `expires` (milliseconds) fits a GraphQL `Int`.
const ACCESS_TTL_MIN: Duration = Duration::from_secs(10);
const ACCESS_TTL_MAX: Duration = Duration::from_secs(24 * 60 * 60);
/// Locks start at 1 s, and no lock may last longer than a day: an owner is never locked
/// out for good.
const LOCK_MAX_MIN: Duration = Duration::from_secs(1);
const LOCK_MAX_MAX: Duration = Duration::from_secs(24 * 60 * 60);

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
    pub fn from_raw(raw: RawSettings) -> Result<Settings, ConfigError> {
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
            (Some(username), Some(password)) => Some(BootstrapAdmin { username, password }),
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
        };

        let cors_origins = raw
            .cors_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| Origin::parse(o).map_err(|e| invalid("cors_origins", e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        for (key, value) in [("issuer", &raw.issuer), ("audience", &raw.audience)] {
            if value.trim().is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        if raw.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        if raw.max_query_depth == 0 {
            return Err(invalid("max_query_depth", "must be at least 1"));
        }
        if raw.max_query_complexity == 0 {
            return Err(invalid("max_query_complexity", "must be at least 1"));
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
        let signing_key_file = match raw.signing_key_file.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(path) => Some(PathBuf::from(path)),
        };
        let log_format = match raw.log_format.to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(invalid("log_format", "must be `text` or `json`")),
        };
        if raw.database_url.trim().is_empty() {
            return Err(invalid("database_url", "must not be empty"));
        }
        if !(raw.database_url.starts_with("sqlite:")
            || raw.database_url.starts_with("postgres://")
            || raw.database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite: or postgres://",
            ));
        }
        let hashing = HashingParams {
            memory_kib: raw.hash_memory_kib,
            iterations: raw.hash_iterations,
            parallelism: raw.hash_parallelism,
            concurrency: raw.hash_concurrency,
        };
        hashing
            .check()
            .map_err(|reason| invalid("hash_memory_kib", reason))?;
        if hashing.concurrency == 0 {
            return Err(invalid("hash_concurrency", "must be at least 1"));
        }

        Ok(Settings {
            bind: raw.bind,
            database_url: raw.database_url,
            access_token_ttl,
            session_ttl,
            refresh_reuse_grace,
            password_max_age,
            signup: raw.signup,
            admin,
            issuer: raw.issuer,
            audience: raw.audience,
            signing_key_file,
            cookies,
            cors_origins,
            api_keys_required: raw.api_keys_required,
            graphiql: raw.graphiql,
            introspection: raw.introspection,
            batching: raw.batching,
            max_body_bytes: raw.max_body_bytes,
            max_query_depth: raw.max_query_depth,
            max_query_complexity: raw.max_query_complexity,
            login_free_failures: raw.login_free_failures,
            login_lock_max,
            ip_failures_per_minute: raw.ip_failures_per_minute,
            log_format,
            auto_migrate: raw.auto_migrate,
            hashing,
        })
    }

    /// The defaults, bound to a random loopback port, on the given database.
    /// Cookies are not `Secure` so a test client over plain HTTP keeps them.
    pub fn for_tests(database_url: impl Into<String>) -> Settings {
        let raw = RawSettings {
            bind: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            cookie_secure: false,
            ..RawSettings::default()
        };
        match Settings::from_raw(raw) {
            Ok(settings) => settings,
            // The defaults are checked by the unit tests below; this cannot happen.
            Err(e) => unreachable!("test settings are invalid: {e}"),
        }
    }
}

fn parse_duration(key: &'static str, value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value.trim()).map_err(|e| {
        invalid(
            key,
            format!("`{value}` is not a duration like 15m, 10s or 30d ({e})"),
        )
    })
}

fn cookie_name(key: &'static str, name: &str, secure: bool) -> Result<String, ConfigError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(invalid(key, "must be letters, digits, `_` or `-`"));
    }
    // `__Host-` pins the cookie to this host, `Path=/` and `Secure`: no subdomain or
    // plain-HTTP page can plant or overwrite it.
    Ok(if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    })
}

#[cfg(test)]
mod tests {
    // `figment::Jail` closures return figment's own (large) error type.
    #![allow(clippy::result_large_err)]
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_contract() {
        let s = Settings::from_raw(RawSettings::default()).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.access_token_ttl, Duration::from_secs(15 * 60));
        assert_eq!(s.session_ttl, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(s.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(s.cookies.access_name, "__Host-latchkey_access");
        assert_eq!(s.max_body_bytes, 65536);
        assert!(s.password_max_age.is_none());
    }

    #[test]
    fn an_access_ttl_outside_ten_seconds_to_a_day_is_refused() {
        for bad in ["9s", "25h"] {
            let raw = RawSettings {
                access_token_ttl: bad.into(),
                ..RawSettings::default()
            };
            let err = Settings::from_raw(raw).unwrap_err().to_string();
            assert!(err.contains("access_token_ttl"), "{err}");
        }
    }

    #[test]
    fn same_site_none_without_secure_names_both_settings() {
        let raw = RawSettings {
            cookie_same_site: "none".into(),
            cookie_secure: false,
            ..RawSettings::default()
        };
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(
            err.contains("cookie_same_site") && err.contains("cookie_secure"),
            "{err}"
        );
    }

    #[test]
    fn throttling_defaults_match_the_contract() {
        let s = Settings::from_raw(RawSettings::default()).unwrap();
        assert_eq!(s.login_free_failures, 5);
        assert_eq!(s.login_lock_max, Duration::from_secs(15 * 60));
        assert_eq!(s.ip_failures_per_minute, 30);
    }

    #[test]
    fn unusable_throttling_settings_name_themselves() {
        let cases = [
            RawSettings {
                login_free_failures: 0,
                ..RawSettings::default()
            },
            RawSettings {
                login_lock_max: "500ms".into(),
                ..RawSettings::default()
            },
            RawSettings {
                login_lock_max: "2d".into(),
                ..RawSettings::default()
            },
            RawSettings {
                ip_failures_per_minute: 0,
                ..RawSettings::default()
            },
        ];
        let keys = [
            "login_free_failures",
            "login_lock_max",
            "login_lock_max",
            "ip_failures_per_minute",
        ];
        for (raw, key) in cases.into_iter().zip(keys) {
            let err = Settings::from_raw(raw).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn a_malformed_duration_names_its_setting() {
        let raw = RawSettings {
            session_ttl: "forever".into(),
            ..RawSettings::default()
        };
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains("session_ttl"), "{err}");
    }

    #[test]
    fn cors_origins_are_checked_for_shape() {
        let raw = RawSettings {
            cors_origins: "https://a.example.com/path".into(),
            ..RawSettings::default()
        };
        let err = Settings::from_raw(raw).unwrap_err().to_string();
        assert!(err.contains("cors_origins"), "{err}");
        assert!(err.contains("is not an origin"), "{err}");
        for bad in ["*", "null", "ftp://a.example.com"] {
            let raw = RawSettings {
                cors_origins: format!("https://ok.example.com, {bad}"),
                ..RawSettings::default()
            };
            let err = Settings::from_raw(raw).unwrap_err().to_string();
            assert!(err.contains("cors_origins"), "{bad}: {err}");
        }
    }

    #[test]
    fn cors_origins_are_normalised_and_api_keys_can_be_required() {
        let raw = RawSettings {
            cors_origins: " HTTPS://A.example.com:443 ,, http://localhost:3000/ ".into(),
            api_keys_required: true,
            ..RawSettings::default()
        };
        let s = Settings::from_raw(raw).unwrap();
        let origins: Vec<&str> = s.cors_origins.iter().map(Origin::as_str).collect();
        assert_eq!(origins, ["https://a.example.com", "http://localhost:3000"]);
        assert!(s.api_keys_required);
    }

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "latchkey.toml",
                "access_token_ttl = \"5m\"\nsignup = false\n",
            )?;
            jail.set_env("LATCHKEY_SIGNUP", "true");
            jail.set_env("DATABASE_URL", "postgres://db/latchkey");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.access_token_ttl, Duration::from_secs(300));
            assert!(s.signup);
            assert_eq!(s.database_url, "postgres://db/latchkey");
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("latchkey.toml", "acess_token_ttl = \"5m\"\n")?;
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("acess_token_ttl"), "{err}");
            Ok(())
        });
    }
}
