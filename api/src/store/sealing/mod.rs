//! Secrets sealed at rest: with `secret_key_file` set, the Ed25519 private signing keys
//! (`signing_keys.private_key`), the TOTP secrets (`totp.secret`) and the webhook signing
//! secrets (`webhook_endpoints.secret`) are stored encrypted
//! with XChaCha20-Poly1305, bound to their table, column and row, so a copy of the
//! database alone lets no one sign tokens or compute codes.
//!
//! [`key`] reads and writes the key file, [`envelope`] is the stored text and the cipher,
//! [`at_rest`] seals existing plain rows at start and re-seals everything with a new key
//! (`latchkey keys seal-rotate`). The store's queries go through a [`Sealer`]: values are
//! sealed on the way in and opened on the way out, so nothing above the store sees an
//! envelope, and without a key nothing changes (values are stored as they are).

pub mod at_rest;
pub mod envelope;
pub mod key;

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};
use uuid::Uuid;

use self::envelope::{Place, SealError};
use self::key::SealingKey;
use super::StoreError;

/// The configured key, or none: what the queries seal and open with.
#[derive(Clone, Default)]
pub struct Sealer {
    key: Option<Arc<SealingKey>>,
}

impl Sealer {
    /// Stores values as they are, and opens no sealed value.
    pub fn none() -> Sealer {
        Sealer::default()
    }

    pub fn with_key(key: SealingKey) -> Sealer {
        Sealer {
            key: Some(Arc::new(key)),
        }
    }

    pub fn key(&self) -> Option<&SealingKey> {
        self.key.as_deref()
    }

    /// The text to store for `plain` at `place`: sealed when a key is configured, else
    /// `plain` itself.
    pub(crate) fn seal(&self, place: &Place, plain: &SecretString) -> Result<String, StoreError> {
        match self.key() {
            Some(key) => envelope::seal(key, place, plain)
                .map(|sealed| sealed.expose_secret().to_owned())
                .map_err(|source| unsealable(place, source)),
            None => Ok(plain.expose_secret().to_owned()),
        }
    }

    /// The secret stored as `stored` at `place`.
    pub(crate) fn open(&self, place: &Place, stored: &str) -> Result<SecretString, StoreError> {
        envelope::open(self.key(), place, stored).map_err(|source| unsealable(place, source))
    }
}

fn unsealable(place: &Place, source: SealError) -> StoreError {
    StoreError::Unsealable {
        table: place.table,
        column: place.column,
        row: place.row.clone(),
        source,
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key() {
            Some(key) => write!(f, "Sealer({})", key.id()),
            None => f.write_str("Sealer(none)"),
        }
    }
}

/// Where a signing key's private part is stored.
pub(crate) fn signing_key_place(kid: &str) -> Place {
    Place {
        table: "signing_keys",
        column: "private_key",
        row: kid.to_owned(),
    }
}

/// Where an account's TOTP secret is stored.
pub(crate) fn totp_place(user_id: Uuid) -> Place {
    Place {
        table: "totp",
        column: "secret",
        row: user_id.hyphenated().to_string(),
    }
}

/// Where a webhook endpoint's signing secret is stored.
pub(crate) fn webhook_secret_place(endpoint_id: Uuid) -> Place {
    Place {
        table: "webhook_endpoints",
        column: "secret",
        row: endpoint_id.hyphenated().to_string(),
    }
}
