//! Registering a passkey to the logged-in account (`startPasskeyRegistration`,
//! `finishPasskeyRegistration`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{CredentialID, RegisterPublicKeyCredential};
use webauthn_rs_core::internals::AuthenticatorData;
use webauthn_rs_core::proto::{Registration, ResidentKeyRequirement};

use super::ceremony::{Ceremony, State, UNKNOWN_CHALLENGE};
use super::models;
use super::stored::{PasskeyView, credential_key, flags_of, seal};
use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::principal::Principal;
use crate::auth::sessions::step_up::StepUp;
use crate::store::passkeys::NewPasskey;

/// The longest passkey name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// A passkey's name as its owner gave it: trimmed, 1 to 64 characters, no control
/// characters (it is shown in lists and mails).
pub fn parse_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > NAME_MAX_CHARS {
        return Err(AuthError::bad_input(
            "name",
            format!("must be 1 to {NAME_MAX_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::bad_input(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Why a registration response was refused, whatever the reason (the log says which).
const NOT_ACCEPTED: &str = "passkey response refused";

impl Authenticator {
    /// Starts registering a passkey named `name`: the `PublicKeyCredentialCreationOptions`
    /// (as JSON, for `PublicKeyCredential.parseCreationOptionsFromJSON`). Needs a recent
    /// authentication. The account's passkeys are excluded, so one authenticator is not
    /// registered twice.
    pub async fn start_passkey_registration(
        &self,
        who: &Principal,
        name: &str,
        step_up: StepUp,
    ) -> Result<serde_json::Value, AuthError> {
        let name = parse_name(name)?;
        // A passkey outlives every token, like a TOTP factor: only a logged-in session
        // may add one, never a personal token (which may have leaked).
        if who.session_id().is_none() {
            return Err(AuthError::Forbidden(
                "a personal token cannot register a passkey: log in to add one",
            ));
        }
        self.require_recent_authentication(who, step_up).await?;
        let account = self.accounts.existing(who.user_id).await?;
        let exclude: Vec<CredentialID> = self
            .passkeys
            .rows
            .list_for(account.id)
            .await?
            .iter()
            .filter_map(|row| URL_SAFE_NO_PAD.decode(&row.credential_id).ok())
            .collect();
        let display = match (&account.firstname, &account.lastname) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => account.username.clone(),
        };
        let (mut options, state) = self
            .passkeys
            .rp
            .webauthn()
            .start_passkey_registration(account.id, &account.username, &display, Some(exclude))
            .map_err(|e| AuthError::Internal(anyhow::anyhow!("starting a registration: {e}")))?;
        // A discoverable credential is what lets a login name no account; ask for one
        // where the authenticator can keep it, without refusing one that cannot.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
            selection.require_resident_key = false;
        }
        self.passkeys
            .ceremonies
            .begin(
                &options.public_key.challenge,
                Ceremony::Register,
                Some(account.id),
                &State::Register(state),
                Some(name),
                self.now(),
            )
            .await?;
        serde_json::to_value(&options.public_key)
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("creation options")))
    }

    /// Finishes a registration with the credential's `toJSON()`. Refused
    /// (`Unauthenticated`) when its challenge is unknown, used, expired or another
    /// account's, or when webauthn-rs does not accept it (origin, RP id, signature, user
    /// verification).
    pub async fn finish_passkey_registration(
        &self,
        who: &Principal,
        response: serde_json::Value,
    ) -> Result<PasskeyView, AuthError> {
        let authenticator_data = response
            .get("response")
            .and_then(|r| r.get("authenticatorData"))
            .and_then(serde_json::Value::as_str)
            .and_then(|data| URL_SAFE_NO_PAD.decode(data.trim_end_matches('=')).ok());
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(response).map_err(|_| {
                AuthError::bad_input(
                    "response",
                    "is not the toJSON() of a credential from navigator.credentials.create",
                )
            })?;
        let now = self.now();
        let taken = self
            .passkeys
            .ceremonies
            .take(
                &credential.response.client_data_json,
                Ceremony::Register,
                now,
            )
            .await?
            .filter(|taken| taken.account_id == Some(who.user_id));
        let Some(taken) = taken else {
            tracing::warn!(user_id = %who.user_id, "passkey registration refused: unknown challenge");
            return Err(AuthError::Unauthenticated(UNKNOWN_CHALLENGE));
        };
        let State::Register(state) = taken.state else {
            return Err(AuthError::Unauthenticated(UNKNOWN_CHALLENGE));
        };
        let passkey = self
            .passkeys
            .rp
            .webauthn()
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| {
                tracing::warn!(user_id = %who.user_id, error = %e, "passkey registration refused");
                AuthError::Unauthenticated(NOT_ACCEPTED)
            })?;
        let flags = flags_of(&passkey);
        let credential_id = credential_key(passkey.cred_id());
        // The AAGUID from the authenticator data the browser reported, trusted only as far
        // as it describes the very credential just verified.
        let aaguid = authenticator_data
            .and_then(|bytes| AuthenticatorData::<Registration>::try_from(bytes.as_slice()).ok())
            .and_then(|data| data.acd)
            .filter(|acd| acd.credential_id.as_slice() == passkey.cred_id().as_slice())
            .and_then(|acd| models::meaningful(uuid::Uuid::from_bytes(acd.aaguid)));
        let name = taken.payload.unwrap_or_else(|| "Passkey".to_owned());
        let row = self
            .passkeys
            .rows
            .insert(NewPasskey {
                account_id: who.user_id,
                name,
                credential_id,
                credential: seal(&passkey)?,
                aaguid,
                backup_eligible: flags.backup_eligible,
                backup_state: flags.backup_state,
                user_verified: flags.user_verified,
                now,
            })
            .await?;
        tracing::info!(user_id = %who.user_id, passkey_id = %row.id, "passkey registered");
        Ok(row.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Laptop ").ok().as_deref(), Some("Laptop"));
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(65)).is_err());
        assert!(parse_name(&"é".repeat(64)).is_ok());
        assert!(parse_name("a\nb").is_err());
    }
}
