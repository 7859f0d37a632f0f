//! The WebAuthn relying party: its id (a domain) and the web origins allowed to use it.

use webauthn_rs::prelude::Url;

use super::raw::RawSettings;
use super::values::{ConfigError, invalid};

/// Checked passkey settings.
#[derive(Debug, Clone)]
pub struct WebauthnSettings {
    /// The relying party id: the domain passkeys are bound to (`localhost` in development).
    pub rp_id: String,
    /// Pages on these origins may register and use passkeys; each lies on `rp_id` or a
    /// subdomain of it.
    pub origins: Vec<Url>,
    /// The name an authenticator shows beside a passkey.
    pub rp_name: String,
}

pub(super) fn parse(raw: &RawSettings) -> Result<WebauthnSettings, ConfigError> {
    let rp_id = raw.webauthn_rp_id.trim().to_ascii_lowercase();
    let is_domain = !rp_id.is_empty()
        && rp_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !rp_id.starts_with('.')
        && !rp_id.ends_with('.');
    if !is_domain {
        return Err(invalid(
            "webauthn_rp_id",
            "must be a domain name such as `example.com` or `localhost` (no scheme, no port)",
        ));
    }
    let mut origins = Vec::new();
    for written in raw
        .webauthn_origins
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        let origin = Url::parse(written).map_err(|_| {
            invalid(
                "webauthn_origins",
                format!("`{written}` is not an origin such as `https://example.com`"),
            )
        })?;
        let host = origin.host_str().unwrap_or_default();
        let on_rp = host == rp_id || host.ends_with(&format!(".{rp_id}"));
        if !on_rp || !matches!(origin.scheme(), "https" | "http") {
            return Err(invalid(
                "webauthn_origins",
                format!(
                    "`{written}` is not an http(s) origin on webauthn_rp_id `{rp_id}` or a subdomain of it"
                ),
            ));
        }
        if origin.scheme() == "http" && !(host == "localhost" || host.ends_with(".localhost")) {
            return Err(invalid(
                "webauthn_origins",
                format!("`{written}`: browsers allow WebAuthn over plain http only on localhost"),
            ));
        }
        origins.push(origin);
    }
    if origins.is_empty() {
        return Err(invalid("webauthn_origins", "must name at least one origin"));
    }
    let rp_name = raw.webauthn_rp_name.trim().to_owned();
    if rp_name.is_empty() {
        return Err(invalid("webauthn_rp_name", "must not be empty"));
    }
    Ok(WebauthnSettings {
        rp_id,
        origins,
        rp_name,
    })
}
