//! The relying party: webauthn-rs configured from the settings.

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::config::WebauthnSettings;

/// How long a browser may take over a ceremony. The challenge row lives exactly as long.
pub const CEREMONY_TTL: std::time::Duration = std::time::Duration::from_secs(120);

/// The configured relying party.
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl RelyingParty {
    /// Builds the relying party; a setting it cannot use is named in the error.
    pub fn new(settings: &WebauthnSettings) -> anyhow::Result<RelyingParty> {
        let mut origins = settings.origins.iter();
        let first: &Url = origins
            .next()
            .ok_or_else(|| anyhow::anyhow!("webauthn_origins: must name at least one origin"))?;
        let mut builder = WebauthnBuilder::new(&settings.rp_id, first).map_err(|e| {
            anyhow::anyhow!("webauthn_origins: not usable with webauthn_rp_id: {e}")
        })?;
        for origin in origins {
            builder = builder.append_allowed_origin(origin);
        }
        // On `localhost` a port is no boundary: the RP id has none, so a passkey made on
        // one port works on every other, and a development page may run on any.
        let local = settings.rp_id == "localhost";
        let webauthn = builder
            .rp_name(&settings.rp_name)
            .timeout(CEREMONY_TTL)
            .allow_any_port(local)
            .build()
            .map_err(|e| anyhow::anyhow!("webauthn settings: {e}"))?;
        Ok(RelyingParty { webauthn })
    }

    pub(super) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}
