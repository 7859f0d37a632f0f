//! Changing an account's address: `changeEmail` and `confirmEmailChange`.
//!
//! The address changes only when a link sent to the new address is followed, so an
//! address is never attached to an account without its owner's say; the old (verified)
//! address is told at once, so a change asked for with a stolen session is seen. The
//! answer to `changeEmail` is the same whether or not another account has the new
//! address: the worker finds that out and writes to the address's owner instead.

use super::tokens::{self, EMAIL_CHANGE_PURPOSE};
use crate::auth::accounts::identifiers::Email;
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::principal::Principal;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::auth::sessions::step_up::StepUp;
use crate::store::auth_events::Journal;

const INVALID: AuthError = AuthError::Unauthenticated(
    "the email change link is invalid or has expired: ask for a new one",
);

impl Authenticator {
    /// Asks to move the caller's account to `new_email`: needs a recent authentication
    /// (or the password in the call), then writes the confirmation link for the new
    /// address and the notice for the old one, and answers `true` whether or not the
    /// address is free and whether or not the hourly limits let the mails through.
    pub async fn change_email(
        &self,
        who: &Principal,
        new_email: &str,
        step_up: StepUp,
    ) -> Result<bool, AuthError> {
        let new = Email::parse(new_email)?;
        let account = self.accounts.existing(who.user_id).await?;
        if account.email.as_deref() == Some(new.as_str()) {
            return Err(AuthError::bad_input(
                "newEmail",
                "is already the account's address",
            ));
        }
        let ip = step_up.client.ip.clone();
        // Asked once the input is known to be good, so a client prompts for the password
        // only for a request that can succeed.
        self.require_recent_authentication(who, step_up).await?;
        // Only a verified old address is told: an unverified one may be a typo that
        // belongs to someone else.
        let old = account
            .email
            .as_deref()
            .filter(|_| account.email_verified_at.is_some());
        self.mail
            .request_email_change(account.id, old, new.as_str(), ip.as_deref(), self.now())
            .await?;
        tracing::info!(user_id = %account.id, "email change asked for");
        Ok(true)
    }

    /// Spends an email-change token (from the link's fragment): the account's address
    /// becomes the one the link was sent to, verified. `CONFLICT` if another account took
    /// that address meanwhile.
    pub async fn confirm_email_change(
        &self,
        presented: &SecretString,
        client: &ClientMeta,
    ) -> Result<(), AuthError> {
        let now = self.now();
        let token = tokens::parse_token(presented.expose_secret()).ok_or(INVALID)?;
        let hash = token.hash();
        let live = self
            .mail
            .tokens
            .find_live(hash.as_str(), EMAIL_CHANGE_PURPOSE, now)
            .await?
            .ok_or(INVALID)?;
        // The addresses are not written: the log outlives address changes, and an
        // address is personal data the event does not need to be recognised.
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::EmailChanged, now)
                .user(live.user_id)
                .client(client),
        );
        let changed = self
            .mail
            .tokens
            .change_email(hash.as_str(), live.user_id, &live.email, &mut journal, now)
            .await?;
        self.publish(journal);
        if !changed {
            return Err(INVALID);
        }
        tracing::info!(user_id = %live.user_id, "email address changed");
        Ok(())
    }
}
