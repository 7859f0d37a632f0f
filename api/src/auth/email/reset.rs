//! A forgotten password: `requestPasswordReset` and `resetPassword`.

use super::kind::MailKind;
use super::tokens::{self, RESET_PURPOSE};
use crate::auth::accounts::identifiers::{Email, Username};
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::passwords::password::Password;
use crate::auth::personal_tokens::ledger::token_deleted;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::sessions::ledger::session_ended;
use crate::auth::throttle::address_budget::ThrottledAction;
use crate::store::auth_events::Journal;
use crate::store::email_tokens::PasswordReset;

const INVALID: AuthError =
    AuthError::Unauthenticated("the reset link is invalid or has expired: ask for a new one");

/// A `resetPassword`, as it arrived.
#[derive(Debug)]
pub struct ResetPasswordRequest {
    pub token: SecretString,
    pub new_password: SecretString,
    pub otp: Option<SecretString>,
    pub client: ClientMeta,
}

impl Authenticator {
    /// Writes a reset request for `email` to the outbox and answers `true`, whether or not
    /// an account has that address, and whether or not the hourly limits let it through:
    /// the request path does the same work in every case (a count and an insert), and the
    /// worker finds out later whether there is anyone to write to.
    pub async fn request_password_reset(
        &self,
        email: &str,
        ip: Option<&str>,
    ) -> Result<bool, AuthError> {
        let email = Email::parse(email.trim())?;
        self.mail
            .request(
                MailKind::PasswordReset,
                None,
                email.as_str(),
                ip,
                self.now(),
            )
            .await?;
        Ok(true)
    }

    /// Sets a new password with a reset token: under the password rules, with the
    /// one-time password when TOTP is on. Ends every session and personal token of the
    /// account and clears its lock, in the transaction that spends the token.
    pub async fn reset_password(&self, request: ResetPasswordRequest) -> Result<(), AuthError> {
        let ip = request.client.ip.as_deref();
        self.throttle
            .charge(ThrottledAction::ChangePassword, ip, self.now())?;
        let token = tokens::parse_token(request.token.expose_secret()).ok_or(INVALID)?;
        let hash = token.hash();
        let live = self
            .mail
            .tokens
            .find_live(hash.as_str(), RESET_PURPOSE, self.now())
            .await?
            .ok_or(INVALID)?;
        let account = self.accounts.find(live.user_id).await?.ok_or(INVALID)?;
        // A link sent to an address the account no longer has is void.
        if account.email.as_deref() != Some(live.email.as_str()) {
            return Err(INVALID);
        }
        if account.totp_enabled_at.is_some() {
            // The account lock guards the second factor here as at login: a stolen link
            // is no way to guess codes.
            let attempt = self
                .throttle
                .begin_login(Some(account.id), ip, self.now())
                .await?;
            let otp = request.otp.as_ref().map(|otp| otp.expose_secret());
            if let Err(e) = self.totp.check(&account, otp, self.now()).await {
                if matches!(e, AuthError::InvalidOtp) {
                    self.throttle.login_failed(attempt, ip, self.now()).await;
                } else {
                    self.throttle.login_abandoned(attempt).await;
                    self.throttle.refund_login(ip, self.now());
                }
                return Err(e);
            }
            self.throttle.login_succeeded(attempt, self.now()).await;
            self.throttle.refund_login(ip, self.now());
        }
        let username = Username::parse(&account.username)
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("stored username does not parse")))?;
        let email = Email::parse(&live.email)
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("stored email does not parse")))?;
        let new = Password::new_for(request.new_password, "newPassword", &username, Some(&email))?;
        let new_hash = self.passwords.hash(&new).await?;
        // The reset proves the address reaches its owner: the notice may go to it even
        // if it was not verified before.
        let notice = self.notice_to(&account, live.email.as_str(), MailKind::PasswordChanged);
        let has_notice = notice.is_some();
        let now = self.now();
        let client = &request.client;
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::PasswordReset, now)
                .user(account.id)
                .client(client),
        )
        .per_ended_session(session_ended(account.id, "password_reset", client, now))
        .per_deleted_token(token_deleted(account.id, "password_reset", client, now));
        let verified_event = NewAuthEvent::new(AuthEventKind::EmailVerified, now)
            .user(account.id)
            .client(client)
            .detail("by", "password_reset");
        let reset = self
            .mail
            .tokens
            .reset_password(
                PasswordReset {
                    token_hash: hash.as_str(),
                    user_id: account.id,
                    email: live.email.as_str(),
                    new_hash,
                    notice,
                    verified_event,
                },
                &mut journal,
                now,
            )
            .await?;
        self.publish(journal);
        if !reset {
            return Err(INVALID);
        }
        if has_notice {
            self.mail.written();
        }
        tracing::info!(user_id = %account.id, "password reset; every session and personal token ended");
        Ok(())
    }
}
