//! Logging in with a passkey (`startPasskeyLogin`, `finishPasskeyLogin`), and the
//! assertion check the second factor shares.

use crate::auth::events::AuthEventKind;
use crate::auth::sessions::login::login_event;
use crate::auth::throttle::gate::FailureEvents;
use uuid::Uuid;
use webauthn_rs::prelude::PublicKeyCredential;

use super::ceremony::{Ceremony, State, UNKNOWN_CHALLENGE};
use super::stored::{credential_key, open, seal};
use crate::auth::accounts::identifiers::LoginId;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::secret::SecretString;
use crate::auth::sessions::issued::SessionTokens;
use crate::auth::sessions::step_up::AuthenticationMethod;
use crate::auth::sessions::token_mode::TokenMode;
use crate::store::passkeys::{PasskeyRow, PasskeyUse};
use crate::store::users::UserRow;

/// A passkey login's finish, as it arrived.
#[derive(Debug)]
pub struct PasskeyLoginRequest {
    /// The assertion's `toJSON()`.
    pub response: serde_json::Value,
    pub mode: TokenMode,
    pub client: ClientMeta,
    pub device_cookie: Option<SecretString>,
}

/// Why an assertion was refused, whatever the reason (the log says which): one answer for
/// an unknown credential, another account's, a replay, a wrong origin or RP id, a bad
/// signature, a counter gone backwards.
const NOT_ACCEPTED: &str = "passkey not accepted";

pub(super) fn parse_assertion(
    response: serde_json::Value,
) -> Result<PublicKeyCredential, AuthError> {
    serde_json::from_value(response).map_err(|_| {
        AuthError::bad_input(
            "response",
            "is not the toJSON() of a credential from navigator.credentials.get",
        )
    })
}

impl Authenticator {
    /// Starts a passkey login: the `PublicKeyCredentialRequestOptions` as JSON (for
    /// `PublicKeyCredential.parseRequestOptionsFromJSON`). With a `username` of an account
    /// that has passkeys, they are listed (`allowCredentials`) and only they are accepted;
    /// otherwise the options list none, the browser offers the discoverable credentials it
    /// holds, and the chosen credential names the account. A named account binds the
    /// ceremony: another account's credential is refused at the finish.
    pub async fn start_passkey_login(
        &self,
        username: Option<&str>,
    ) -> Result<serde_json::Value, AuthError> {
        let username = username.map(str::trim).filter(|name| !name.is_empty());
        let account = match username {
            Some(name) => {
                let id = LoginId::parse(Some(name), None)?;
                self.accounts.find_by_login(&id).await?
            }
            None => None,
        };
        let passkeys = match &account {
            Some(account) => self.passkeys.rows.list_for(account.id).await?,
            None => Vec::new(),
        };
        let credentials = passkeys.iter().map(open).collect::<Result<Vec<_>, _>>()?;
        let webauthn = self.passkeys.rp.webauthn();
        let (challenge, state, options) = if credentials.is_empty() {
            let (options, state) = webauthn.start_discoverable_authentication().map_err(|e| {
                AuthError::Internal(anyhow::anyhow!("starting a passkey login: {e}"))
            })?;
            (
                options.public_key.challenge.clone(),
                State::Discoverable(state),
                options.public_key,
            )
        } else {
            let (options, state) = webauthn
                .start_passkey_authentication(&credentials)
                .map_err(|e| {
                    AuthError::Internal(anyhow::anyhow!("starting a passkey login: {e}"))
                })?;
            (
                options.public_key.challenge.clone(),
                State::Login(state),
                options.public_key,
            )
        };
        self.passkeys
            .ceremonies
            .begin(
                &challenge,
                Ceremony::Login,
                account.as_ref().map(|a| a.id),
                &state,
                None,
                self.now(),
            )
            .await?;
        serde_json::to_value(&options)
            .map_err(|e| AuthError::Internal(anyhow::Error::new(e).context("request options")))
    }

    /// Finishes a passkey login and opens a session, as `login` does. A passkey verifies
    /// its user (PIN or biometric), so it is both factors: no `OTP_REQUIRED`. Every
    /// refusal is `Unauthenticated` and counts against the credential's account like a
    /// wrong password; a locked account is `RateLimited`.
    pub async fn finish_passkey_login(
        &self,
        request: PasskeyLoginRequest,
    ) -> Result<SessionTokens, AuthError> {
        let credential = parse_assertion(request.response)?;
        let ip = request.client.ip.clone();
        let row = self
            .passkeys
            .rows
            .find_by_credential_id(&credential_key(&credential.raw_id))
            .await?;
        let owner = row.as_ref().map(|row| row.account_id);
        let device = match owner {
            Some(owner) => {
                self.known_devices
                    .recognise(owner, request.device_cookie.as_ref(), self.now())
                    .await?
            }
            None => None,
        };
        let throttle_key = device.as_ref().map(|d| d.id).or(owner);
        let attempt = self
            .throttle
            .begin_login(throttle_key, ip.as_deref(), self.now())
            .await?;
        let verified = self.verify_assertion(&credential, row, None).await;
        let account = match verified {
            Ok(account) => account,
            Err(e @ AuthError::Unauthenticated(_)) => {
                // Recorded like a wrong password: on the credential's account when the
                // credential is known, as an unknown account otherwise.
                let now = self.now();
                let events = FailureEvents {
                    failed: login_event(AuthEventKind::LoginFailed, owner, &request.client, now),
                    locked: login_event(AuthEventKind::LoginLocked, owner, &request.client, now),
                }
                .because("passkey");
                let journal = self
                    .throttle
                    .login_failed_recording(attempt, ip.as_deref(), now, Some(events))
                    .await;
                self.publish(journal);
                return Err(e);
            }
            Err(e) => {
                self.throttle.login_abandoned(attempt).await;
                return Err(e);
            }
        };
        self.throttle.login_succeeded(attempt, self.now()).await;
        self.throttle.refund_login(ip.as_deref(), self.now());
        tracing::info!(user_id = %account.id, "logged in with a passkey");
        self.open_login_session(
            account,
            AuthenticationMethod::Passkey,
            request.mode,
            request.client,
            device,
        )
        .await
    }

    /// Checks an assertion of the stored credential `row` against the login ceremony its
    /// challenge names, and records the credential's new counter and backup state. With
    /// `for_account`, the ceremony must have been started for that account (the second
    /// factor of a password login). Every refusal is `Unauthenticated(NOT_ACCEPTED)` or
    /// the unknown-challenge answer, with the reason in the log.
    pub(super) async fn verify_assertion(
        &self,
        credential: &PublicKeyCredential,
        row: Option<PasskeyRow>,
        for_account: Option<Uuid>,
    ) -> Result<UserRow, AuthError> {
        let refuse = |why: &'static str, account: Option<Uuid>| {
            tracing::warn!(user_id = ?account, reason = why, "passkey assertion refused");
            AuthError::Unauthenticated(NOT_ACCEPTED)
        };
        let now = self.now();
        // The challenge is spent first, whatever follows: a response is judged once.
        let taken = self
            .passkeys
            .ceremonies
            .take(&credential.response.client_data_json, Ceremony::Login, now)
            .await?;
        let Some(row) = row else {
            return Err(refuse("unknown credential", None));
        };
        let owner = row.account_id;
        let Some(taken) = taken else {
            tracing::warn!(user_id = %owner, "passkey assertion refused: unknown, used or expired challenge");
            return Err(AuthError::Unauthenticated(UNKNOWN_CHALLENGE));
        };
        if taken.account_id.is_some_and(|bound| bound != owner) {
            return Err(refuse("credential of another account", Some(owner)));
        }
        if for_account.is_some_and(|wanted| taken.account_id != Some(wanted)) {
            return Err(refuse("ceremony not started for this account", Some(owner)));
        }
        let mut passkey = open(&row)?;
        let webauthn = self.passkeys.rp.webauthn();
        let result = match taken.state {
            State::Login(state) => webauthn.finish_passkey_authentication(credential, &state),
            State::Discoverable(state) => {
                let handle = webauthn
                    .identify_discoverable_authentication(credential)
                    .map(|(user, _)| user);
                if handle.ok() != Some(owner) {
                    return Err(refuse(
                        "user handle is not the credential's account",
                        Some(owner),
                    ));
                }
                webauthn.finish_discoverable_authentication_v2(credential, state, &passkey)
            }
            State::Register(_) => return Err(refuse("a registration challenge", Some(owner))),
        };
        let result = result.map_err(|e| {
            tracing::warn!(user_id = %owner, error = %e, "passkey assertion refused by webauthn");
            AuthError::Unauthenticated(NOT_ACCEPTED)
        })?;
        if !result.user_verified() {
            return Err(refuse("no user verification", Some(owner)));
        }
        // A credential cannot become, or stop being, backup eligible (WebAuthn §6.1.3):
        // a change means another authenticator answering for it.
        if result.backup_eligible() != row.backup_eligible {
            return Err(refuse("backup eligibility changed", Some(owner)));
        }
        let before = row.credential.clone();
        passkey.update_credential(&result);
        let recorded = self
            .passkeys
            .rows
            .record_use(PasskeyUse {
                id: row.id,
                before: &before,
                after: seal(&passkey)?,
                backup_state: result.backup_state(),
                now,
            })
            .await?;
        if !recorded {
            // Another assertion of this credential was recorded in between: its counter
            // stands, and this one (checked against the older counter) is not trusted.
            return Err(refuse(
                "credential changed while this assertion was checked",
                Some(owner),
            ));
        }
        self.accounts.existing(owner).await
    }
}
