//! `changePassword`: for a logged-in user, and for one whose password has expired (who
//! cannot log in, so names the account and proves the current password instead).

use super::password::Password;
use crate::auth::accounts::identifiers::{Email, LoginId, Username};
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::email::kind::MailKind;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::personal_tokens::ledger::token_deleted;
use crate::auth::principal::Principal;
use crate::auth::proof::Claim;
use crate::auth::secret::{ExposeSecret, SecretString};
use crate::auth::sessions::ledger::session_ended;
use crate::auth::throttle::account_lock::account_throttle_key;
use crate::auth::throttle::address_budget::ThrottledAction;
use crate::auth::throttle::gate::FailureEvents;
use crate::store::auth_events::Journal;
use crate::store::users::AlongWithPasswordChange;

/// A password change, as it arrived.
#[derive(Debug)]
pub struct ChangePasswordRequest {
    /// The account, by exactly one of username or email; both absent means the caller's.
    pub username: Option<String>,
    pub email: Option<String>,
    pub current_password: SecretString,
    pub new_password: SecretString,
    pub otp: Option<SecretString>,
    /// Delete every personal token too: a changed password often means a suspected
    /// compromise, and a token made by the intruder would outlive it.
    pub end_personal_tokens: bool,
    pub client: ClientMeta,
}

impl Authenticator {
    /// Checks the current password (and the one-time password when TOTP is on), applies
    /// the password rules to the new one, stores it, and ends every other session of the
    /// account: whoever held the old password is logged out everywhere but here. An
    /// expired password may be changed; that is the way out of `PASSWORD_EXPIRED`.
    pub async fn change_password(
        &self,
        caller: Option<&Principal>,
        request: ChangePasswordRequest,
    ) -> Result<(), AuthError> {
        let named = request.username.is_some() || request.email.is_some();
        let (row, throttle_key) = match (named, caller) {
            (true, _) => {
                let id = LoginId::parse(request.username.as_deref(), request.email.as_deref())?;
                let row = self.accounts.find_by_login(&id).await?;
                let key = account_throttle_key(row.as_ref().map(|r| r.id), &id);
                (row, key)
            }
            (false, Some(who)) => (self.accounts.find(who.user_id).await?, who.user_id),
            (false, None) => {
                return Err(AuthError::bad_input(
                    "username",
                    "give username or email, or send the access token of a login",
                ));
            }
        };
        let current = Password::presented(request.current_password, "currentPassword")?;
        // Throttled like login, and on the same account counter: guessing the current
        // password here is guessing a login password.
        let ip = request.client.ip.as_deref();
        self.throttle
            .charge(ThrottledAction::ChangePassword, ip, self.now())?;
        let account_id = row.as_ref().map(|r| r.id);
        let row = self
            .prove(Claim {
                account: row,
                throttle_key,
                password: &current,
                otp: request.otp.as_ref().map(ExposeSecret::expose_secret),
                ip,
                passkey: None,
                failure_events: FailureEvents::during(
                    "changePassword",
                    account_id,
                    caller.and_then(Principal::session_id),
                    &request.client,
                    self.now(),
                ),
            })
            .await?
            .account;

        let username = Username::parse(&row.username)
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("stored username does not parse")))?;
        let email = row
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("stored email does not parse")))?;
        let new = Password::new_for(
            request.new_password,
            "newPassword",
            &username,
            email.as_ref(),
        )?;
        if new.expose() == current.expose() {
            return Err(AuthError::bad_input(
                "newPassword",
                "must differ from the current password",
            ));
        }
        let hash = self.passwords.hash(&new).await?;
        // The session making the change stays; a change by name (expired password) or
        // through a personal token keeps none.
        let keep = caller
            .filter(|who| who.user_id == row.id)
            .and_then(Principal::session_id);
        let notice = self.notice_for(&row, MailKind::PasswordChanged);
        let has_notice = notice.is_some();
        let now = self.now();
        let client = &request.client;
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::PasswordChanged, now)
                .user(row.id)
                .session(caller.and_then(Principal::session_id))
                .client(client)
                .detail("byName", named)
                .detail("personalTokensEnded", request.end_personal_tokens),
        )
        .per_ended_session(session_ended(row.id, "password_changed", client, now))
        .per_deleted_token(token_deleted(row.id, "password_changed", client, now));
        let changed = self
            .passwords
            .replace(
                &row,
                hash,
                keep,
                AlongWithPasswordChange {
                    end_personal_tokens: request.end_personal_tokens,
                    notice,
                    journal: &mut journal,
                },
                now,
            )
            .await?;
        self.publish(journal);
        if has_notice && changed {
            self.mail.written();
        }
        if !changed {
            return Err(AuthError::Unauthenticated(
                "the password was changed meanwhile: try again with the new one",
            ));
        }
        tracing::info!(
            user_id = %row.id,
            personal_tokens_ended = request.end_personal_tokens,
            "password changed; other sessions ended"
        );
        Ok(())
    }
}
