//! Logging in: the throttle, the password, the second factor, the password's age, then a
//! new session (API.md "Order of login checks").

use super::issued::SessionTokens;
use super::token_mode::TokenMode;
use crate::auth::accounts::identifiers::LoginId;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::email::kind::MailKind;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::known_devices::registry::KnownDevice;
use crate::auth::passwords::password::Password;
use crate::auth::proof::Claim;
use crate::auth::secret::{ExposeSecret, SecretString};
use crate::auth::sessions::step_up::AuthenticationMethod;
use crate::auth::throttle::account_lock::account_throttle_key;
use crate::auth::throttle::gate::FailureEvents;
use crate::store::users::UserRow;

/// A login attempt, as it arrived.
#[derive(Debug)]
pub struct LoginRequest {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: SecretString,
    /// The one-time password or a recovery code; looked at only when TOTP is on.
    pub otp: Option<SecretString>,
    /// A passkey assertion (`toJSON()`) in place of `otp`, from a ceremony started with
    /// `startPasskeyLogin` for this account.
    pub passkey: Option<serde_json::Value>,
    pub mode: TokenMode,
    pub client: ClientMeta,
    /// The device cookie the browser sent, if any (see `known_devices`).
    pub device_cookie: Option<SecretString>,
}

impl Authenticator {
    /// Checks the password and opens a session.
    pub async fn login(&self, request: LoginRequest) -> Result<SessionTokens, AuthError> {
        let outcome = self.checked_login(request).await;
        crate::series::record::login(&outcome);
        outcome
    }

    async fn checked_login(&self, request: LoginRequest) -> Result<SessionTokens, AuthError> {
        let id = LoginId::parse(request.username.as_deref(), request.email.as_deref())?;
        let password = Password::presented(request.password, "password")?;
        let row = self.accounts.find_by_login(&id).await?;
        // Throttle before the password is looked at. A name no account has is counted
        // under a stand-in key, so it locks like a real one: answers never tell them apart.
        let account_key = account_throttle_key(row.as_ref().map(|r| r.id), &id);
        // A browser the account has logged in from is judged by its own failures, not by
        // the account's lock, which anyone who knows the name can set off. A name no
        // account has is looked up the same way (under its stand-in key, which no device
        // has), so a device cookie does not make the two take different work either.
        let device = self
            .known_devices
            .recognise(account_key, request.device_cookie.as_ref(), self.now())
            .await?;
        let throttle_key = device.as_ref().map_or(account_key, |device| device.id);
        let row_id = row.as_ref().map(|r| r.id);
        let proven = self
            .prove(Claim {
                account: row,
                throttle_key,
                password: &password,
                otp: request.otp.as_ref().map(ExposeSecret::expose_secret),
                ip: request.client.ip.as_deref(),
                passkey: request.passkey,
                failure_events: FailureEvents {
                    failed: login_event(
                        AuthEventKind::LoginFailed,
                        row_id,
                        &request.client,
                        self.now(),
                    ),
                    locked: login_event(
                        AuthEventKind::LoginLocked,
                        row_id,
                        &request.client,
                        self.now(),
                    ),
                },
            })
            .await?;
        let method = proven.method;
        let row = proven.account;
        if proven.needs_rehash {
            self.passwords.upgrade(&row, &password).await;
        }
        // Every factor is right, so the failures are forgotten even if the password has
        // expired: the owner has proved who they are, and `changePassword` is next.
        if self
            .accounts
            .view(&row)
            .password_expires_at
            .is_some_and(|at| at <= self.now())
        {
            return Err(AuthError::PasswordExpired);
        }
        self.open_login_session(row, method, request.mode, request.client, device)
            .await
    }

    /// What every way of logging in does once the account has proved itself (`login`,
    /// `finishPasskeyLogin`): the verified-address rule, a new session and its tokens, the
    /// device remembered, and the new-device notice.
    pub(crate) async fn open_login_session(
        &self,
        row: UserRow,
        method: AuthenticationMethod,
        mode: TokenMode,
        client: ClientMeta,
        device: Option<KnownDevice>,
    ) -> Result<SessionTokens, AuthError> {
        let now = self.now();
        let account = self.accounts.view(&row);
        self.check_email_verified(&row)?;
        let succeeded = login_event(
            AuthEventKind::LoginSucceeded,
            Some(account.id),
            &client,
            now,
        )
        .detail("method", method.as_str());
        let session = self
            .sessions
            .open(account.id, mode, method, client, succeeded, now)
            .await?;
        self.publish(session.journal);
        let access = self.tokens.mint(account.id, session.id, now)?;
        let new_device = device.is_none();
        let device = self.known_devices.remember(account.id, device, now).await;
        if new_device {
            self.send_notice(account.id, MailKind::NewDevice).await;
        }
        Ok(SessionTokens {
            device,
            account,
            access,
            refresh: session.refresh,
            session_id: session.id,
            mode,
            session_expires_at: session.expires_at,
        })
    }
}

/// An event of a login attempt: the account if the name matched one (never the name
/// typed, which may be a password typed in the wrong field), and the client.
pub(crate) fn login_event(
    kind: AuthEventKind,
    account: Option<uuid::Uuid>,
    client: &ClientMeta,
    now: chrono::DateTime<chrono::Utc>,
) -> NewAuthEvent {
    let event = NewAuthEvent::new(kind, now).client(client);
    match account {
        Some(id) => event.user(id),
        None => event,
    }
}
