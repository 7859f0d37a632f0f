//! The passkey capability as the authenticator holds it: the relying party, the
//! ceremonies under way, and the stored credentials.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use webauthn_rs::prelude::Passkey;

use super::ceremony::Ceremonies;
use super::models;
use super::relying_party::RelyingParty;
use crate::auth::error::AuthError;
use crate::store::passkeys::{PasskeyRow, Passkeys};
use crate::store::webauthn_challenges::WebauthnChallenges;

pub struct PasskeyFactor {
    pub(super) rp: RelyingParty,
    pub(super) ceremonies: Ceremonies,
    pub(super) rows: Passkeys,
}

/// A passkey as its owner sees it listed.
#[derive(Debug, Clone)]
pub struct PasskeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The authenticator model's AAGUID, when it told one.
    pub aaguid: Option<String>,
    /// The model's name, for AAGUIDs this server knows.
    pub model: Option<&'static str>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub user_verified: bool,
}

impl From<PasskeyRow> for PasskeyView {
    fn from(row: PasskeyRow) -> PasskeyView {
        PasskeyView {
            id: row.id,
            model: row.aaguid.as_deref().and_then(models::name_of),
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            aaguid: row.aaguid,
            backup_eligible: row.backup_eligible,
            backup_state: row.backup_state,
            user_verified: row.user_verified,
        }
    }
}

impl PasskeyFactor {
    pub fn new(rp: RelyingParty, rows: Passkeys, challenges: WebauthnChallenges) -> PasskeyFactor {
        PasskeyFactor {
            rp,
            ceremonies: Ceremonies::new(challenges),
            rows,
        }
    }
}

/// How a credential id is stored and looked up: base64url without padding.
pub(super) fn credential_key(raw_id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw_id)
}

/// The stored credential, as webauthn-rs reads it back.
pub(super) fn open(row: &PasskeyRow) -> Result<Passkey, AuthError> {
    serde_json::from_str(&row.credential)
        .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("stored passkey")))
}

pub(super) fn seal(passkey: &Passkey) -> Result<String, AuthError> {
    serde_json::to_string(passkey)
        .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("passkey to store")))
}

/// The flags webauthn-rs recorded for a new credential. `Passkey` has no accessor for
/// them, so they are read from its own serialisation (a test pins the shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Flags {
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub user_verified: bool,
}

pub(super) fn flags_of(passkey: &Passkey) -> Flags {
    let value = serde_json::to_value(passkey).unwrap_or_default();
    let flag = |name: &str| {
        value
            .get("cred")
            .and_then(|cred| cred.get(name))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    Flags {
        backup_eligible: flag("backup_eligible"),
        backup_state: flag("backup_state"),
        user_verified: flag("user_verified"),
    }
}
