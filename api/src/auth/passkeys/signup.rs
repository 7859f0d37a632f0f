//! Passwordless sign-up: a new account whose only way in is a passkey
//! (`startPasskeySignup`, `finishPasskeySignup`).
//!
//! The account is created at the finish, with its passkey, in one transaction: it never
//! exists without a way to log in. It has no password (an empty hash, which no password
//! matches); its owner can add one through a password reset by mail.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::RegisterPublicKeyCredential;
use webauthn_rs_core::proto::ResidentKeyRequirement;

use super::ceremony::{Ceremony, State, UNKNOWN_CHALLENGE};
use super::registration::parse_name;
use super::stored::{credential_key, flags_of, seal};
use crate::auth::accounts::account::Role;
use crate::auth::accounts::identifiers::{Email, LoginId, Username, parse_person_name};
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::email::kind::MailKind;
use crate::auth::email::limits::new_mail;
use crate::auth::error::AuthError;
use crate::auth::secret::SecretString;
use crate::auth::sessions::issued::SessionTokens;
use crate::auth::sessions::step_up::AuthenticationMethod;
use crate::auth::sessions::token_mode::TokenMode;
use crate::auth::throttle::address_budget::ThrottledAction;
use crate::store::passkeys::NewPasskey;
use crate::store::users::NewUser;

/// A passwordless sign-up, as it arrived.
#[derive(Debug)]
pub struct PasskeySignupRequest {
    pub username: String,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    /// The passkey's name; "Passkey" when not given.
    pub passkey_name: Option<String>,
}

/// The new account, kept with the ceremony until its finish.
#[derive(Serialize, Deserialize)]
struct PendingAccount {
    id: Uuid,
    username: String,
    email: Option<String>,
    firstname: Option<String>,
    lastname: Option<String>,
    passkey_name: String,
}

/// The finish of a passwordless sign-up.
#[derive(Debug)]
pub struct PasskeySignupFinish {
    pub response: serde_json::Value,
    pub mode: TokenMode,
    pub client: ClientMeta,
    pub device_cookie: Option<SecretString>,
}

impl Authenticator {
    /// Starts a passwordless sign-up (when sign-up is on): checks the new account's
    /// details as `register` does (a taken username or email is `Conflict`) and returns
    /// the creation options. Nothing is stored but the ceremony.
    pub async fn start_passkey_signup(
        &self,
        request: PasskeySignupRequest,
        ip: Option<&str>,
    ) -> Result<serde_json::Value, AuthError> {
        if !self.offered.signup {
            return Err(AuthError::Forbidden("sign-up is disabled"));
        }
        self.throttle
            .charge(ThrottledAction::Register, ip, self.now())?;
        let username = Username::parse(&request.username)?;
        let email = request
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Email::parse)
            .transpose()?;
        if self.email_required() && email.is_none() {
            return Err(AuthError::bad_input(
                "email",
                "is required: this server lets only verified addresses log in",
            ));
        }
        let firstname = parse_person_name("firstname", request.firstname.as_deref())?;
        let lastname = parse_person_name("lastname", request.lastname.as_deref())?;
        let passkey_name = parse_name(request.passkey_name.as_deref().unwrap_or("Passkey"))?;
        // Taken names are refused now, as `register` refuses them, rather than after the
        // user has touched their authenticator; the insert at the finish checks again.
        let by_name = LoginId::parse(Some(username.as_str()), None)?;
        if self.accounts.find_by_login(&by_name).await?.is_some() {
            return Err(AuthError::Conflict("username"));
        }
        if let Some(email) = &email {
            let by_email = LoginId::parse(None, Some(email.as_str()))?;
            if self.accounts.find_by_login(&by_email).await?.is_some() {
                return Err(AuthError::Conflict("email"));
            }
        }
        let id = Uuid::now_v7();
        let display = match (&firstname, &lastname) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => username.as_str().to_owned(),
        };
        let (mut options, state) = self
            .passkeys
            .rp
            .webauthn()
            .start_passkey_registration(id, username.as_str(), &display, None)
            .map_err(|e| AuthError::Internal(anyhow::anyhow!("starting a sign-up: {e}")))?;
        // The passkey is the account's only way in, and a discoverable one is what lets
        // its owner log in without typing the name: preferred, not required, so an
        // authenticator that cannot keep one still works (with the username).
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
            selection.require_resident_key = false;
        }
        let pending = PendingAccount {
            id,
            username: username.as_str().to_owned(),
            email: email.map(|e| e.as_str().to_owned()),
            firstname,
            lastname,
            passkey_name,
        };
        let payload = serde_json::to_string(&pending)
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("pending account")))?;
        self.passkeys
            .ceremonies
            .begin(
                &options.public_key.challenge,
                Ceremony::Signup,
                None,
                &State::Register(state),
                Some(payload),
                self.now(),
            )
            .await?;
        serde_json::to_value(&options.public_key)
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("creation options")))
    }

    /// Finishes a passwordless sign-up: creates the account with its passkey and logs it
    /// in (the passkey just proved possession and user verification, so a second
    /// ceremony would add nothing), returning the session's tokens as `login` does.
    pub async fn finish_passkey_signup(
        &self,
        request: PasskeySignupFinish,
    ) -> Result<SessionTokens, AuthError> {
        let credential: RegisterPublicKeyCredential = serde_json::from_value(request.response)
            .map_err(|_| {
                AuthError::bad_input(
                    "response",
                    "is not the toJSON() of a credential from navigator.credentials.create",
                )
            })?;
        let now = self.now();
        let taken = self
            .passkeys
            .ceremonies
            .take(&credential.response.client_data_json, Ceremony::Signup, now)
            .await?;
        let Some(taken) = taken else {
            tracing::warn!("passkey sign-up refused: unknown challenge");
            return Err(AuthError::Unauthenticated(UNKNOWN_CHALLENGE));
        };
        let (State::Register(state), Some(payload)) = (taken.state, taken.payload) else {
            return Err(AuthError::Unauthenticated(UNKNOWN_CHALLENGE));
        };
        let pending: PendingAccount = serde_json::from_str(&payload)
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("pending account")))?;
        let passkey = self
            .passkeys
            .rp
            .webauthn()
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| {
                tracing::warn!(error = %e, "passkey sign-up refused");
                AuthError::Unauthenticated("passkey response refused")
            })?;
        let flags = flags_of(&passkey);
        let username = Username::parse(&pending.username)?;
        let id = pending.id;
        let verification = pending.email.as_deref().map(|email| {
            new_mail(
                MailKind::VerifyEmail,
                Some(id),
                email,
                request.client.ip.as_deref(),
            )
        });
        let has_mail = verification.is_some();
        let row = self
            .accounts
            .insert_with_passkey(
                NewUser {
                    id,
                    username: username.as_str().to_owned(),
                    username_key: username.key(),
                    email: pending.email,
                    firstname: pending.firstname,
                    lastname: pending.lastname,
                    role: Role::User.as_str(),
                    // No password: no password matches an empty hash.
                    password_hash: String::new(),
                    now,
                },
                verification,
                NewPasskey {
                    account_id: id,
                    name: pending.passkey_name,
                    credential_id: credential_key(passkey.cred_id()),
                    credential: seal(&passkey)?,
                    aaguid: None,
                    backup_eligible: flags.backup_eligible,
                    backup_state: flags.backup_state,
                    user_verified: flags.user_verified,
                    now,
                },
            )
            .await?;
        if has_mail {
            self.mail.written();
        }
        tracing::info!(user_id = %row.id, "account created with a passkey");
        self.open_login_session(
            row,
            AuthenticationMethod::Passkey,
            request.mode,
            request.client,
            None,
        )
        .await
    }
}
