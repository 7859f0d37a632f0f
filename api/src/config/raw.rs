//! Settings as an operator writes them, and their defaults.

use serde::{Deserialize, Serialize};

use super::values::HashingSettings;

/// Environment variables with the `LATCHKEY_` prefix that are not settings.
pub(super) const NON_SETTING_VARS: &[&str] = &["config", "new_password"];

/// Settings as written in `latchkey.toml` or the environment, before checking.
// No `Debug`: it holds the database URL and the admin password as written.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSettings {
    pub bind: String,
    pub database_url: String,
    pub access_token_ttl: String,
    pub session_ttl: String,
    pub session_retention: String,
    pub auth_header_max_ttl: String,
    pub reauth_window: String,
    pub refresh_reuse_grace: String,
    pub password_max_age: Option<String>,
    pub signup: bool,
    pub admin_username: Option<String>,
    pub admin_password: Option<String>,
    pub issuer: String,
    pub audience: String,
    pub signing_key_file: Option<String>,
    pub secret_key_file: Option<String>,
    pub cookie_secure: bool,
    pub cookie_same_site: String,
    pub cookie_access_name: String,
    pub cookie_refresh_name: String,
    pub cookie_device_name: String,
    pub known_device_ttl: String,
    pub cors_origins: String,
    pub api_keys_required: bool,
    pub graphiql: bool,
    pub introspection: bool,
    pub batching: bool,
    pub max_body_bytes: usize,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub max_query_aliases: usize,
    pub max_query_operations: usize,
    pub max_query_fragments: usize,
    pub max_query_tokens: usize,
    pub max_field_directives: usize,
    pub max_variables: usize,
    pub max_variable_depth: usize,
    pub max_variable_string_bytes: usize,
    pub max_variable_list_length: usize,
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
        let hashing = HashingSettings::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://latchkey.db?mode=rwc".into(),
            access_token_ttl: "15m".into(),
            session_ttl: "30d".into(),
            session_retention: "30d".into(),
            auth_header_max_ttl: "365d".into(),
            reauth_window: "5m".into(),
            refresh_reuse_grace: "10s".into(),
            password_max_age: None,
            signup: true,
            admin_username: None,
            admin_password: None,
            issuer: "latchkey".into(),
            audience: "latchkey".into(),
            signing_key_file: None,
            secret_key_file: None,
            cookie_secure: true,
            cookie_same_site: "lax".into(),
            cookie_access_name: "latchkey_access".into(),
            cookie_refresh_name: "latchkey_refresh".into(),
            cookie_device_name: "latchkey_device".into(),
            known_device_ttl: "90d".into(),
            cors_origins: String::new(),
            api_keys_required: false,
            graphiql: true,
            introspection: true,
            batching: false,
            max_body_bytes: 64 * 1024,
            max_query_depth: 12,
            max_query_complexity: 250,
            max_query_aliases: 128,
            max_query_operations: 16,
            max_query_fragments: 128,
            max_query_tokens: 20_000,
            max_field_directives: 8,
            max_variables: 64,
            max_variable_depth: 16,
            max_variable_string_bytes: 8192,
            max_variable_list_length: 100,
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
