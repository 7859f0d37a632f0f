use async_graphql::{ID, SimpleObject};

use super::DateTime;
use crate::auth::passkeys::stored::PasskeyView;

/// A passkey (WebAuthn credential) of your account. Its public key is not shown.
#[derive(SimpleObject, Debug, Clone)]
pub struct Passkey {
    /// Its id, for `renamePasskey` and `deletePasskey`.
    pub id: ID,
    /// The name you gave it.
    pub name: String,
    /// When it was registered.
    pub created: DateTime,
    /// The last login (or second step) it made; null before the first.
    pub last_used_at: Option<DateTime>,
    /// The authenticator model's AAGUID, as the authenticator reported it; null when it
    /// reported none (all zeros).
    pub aaguid: Option<String>,
    /// The model's name, for AAGUIDs this server knows (for example "Apple Passwords").
    pub model: Option<String>,
    /// Whether the passkey may be synced or backed up to other devices.
    pub backup_eligible: bool,
    /// Whether it is backed up (synced) now, as of its last use.
    pub backed_up: bool,
    /// Whether its registration verified the user (PIN or biometric).
    pub user_verified: bool,
}

impl From<PasskeyView> for Passkey {
    fn from(view: PasskeyView) -> Self {
        Passkey {
            id: ID(view.id.to_string()),
            name: view.name,
            created: view.created_at.into(),
            last_used_at: view.last_used_at.map(Into::into),
            aaguid: view.aaguid,
            model: view.model.map(str::to_owned),
            backup_eligible: view.backup_eligible,
            backed_up: view.backup_state,
            user_verified: view.user_verified,
        }
    }
}
