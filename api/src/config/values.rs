//! The checked shapes of single settings, the error that names a wrong one, and the
//! parsers they share.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

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

pub(super) fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
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

/// How the token cookies and the known-device cookie are written.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    pub secure: bool,
    pub same_site: SameSite,
    /// Final names, `__Host-` prefix included when `secure`.
    pub access_name: String,
    pub refresh_name: String,
    pub device_name: String,
}

/// A username and password for the first admin, created at start if no admin exists.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub username: String,
    pub password: SecretString,
}

/// argon2id costs and how many hashes may run at once (`hash_*` settings). argon2 itself
/// judges the costs when the hasher starts, and names `hash_memory_kib` if it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub concurrency: usize,
}

impl Default for HashingSettings {
    /// OWASP's argon2id recommendation (m = 19 MiB, t = 2, p = 1); one hash per core.
    fn default() -> Self {
        HashingSettings {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            concurrency: std::thread::available_parallelism().map_or(2, usize::from),
        }
    }
}

pub(super) fn parse_duration(key: &'static str, value: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(value.trim()).map_err(|e| {
        invalid(
            key,
            format!("`{value}` is not a duration like 15m, 10s or 30d ({e})"),
        )
    })
}

pub(super) fn cookie_name(
    key: &'static str,
    name: &str,
    secure: bool,
) -> Result<String, ConfigError> {
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
