//! Proving an address: `requestEmailVerification`, `verifyEmail`, and the rule that
//! `require_verified_email` adds to `login`.

use super::kind::MailKind;
use super::tokens::{self, MAX_CODE_FAILURES, VERIFY_PURPOSE};
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::principal::Principal;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::store::auth_events::Journal;
use crate::store::users::UserRow;

const INVALID: AuthError =
    AuthError::Unauthenticated("the verification link or code is invalid or has expired");

impl Authenticator {
    /// Sends the caller's address a fresh link and code (voiding earlier ones). `false`
    /// when the address is verified already; `BAD_USER_INPUT` when the account has none.
    pub async fn request_email_verification(
        &self,
        who: &Principal,
        ip: Option<&str>,
    ) -> Result<bool, AuthError> {
        let row = self.accounts.existing(who.user_id).await?;
        let Some(email) = row.email.as_deref() else {
            return Err(AuthError::bad_input(
                "email",
                "the account has no email address to verify",
            ));
        };
        if row.email_verified_at.is_some() {
            return Ok(false);
        }
        self.mail
            .request(MailKind::VerifyEmail, Some(row.id), email, ip, self.now())
            .await?;
        Ok(true)
    }

    /// Spends a verification token (from the link), or the code beside it (typed by the
    /// logged-in owner), and marks the address verified.
    pub async fn verify_email(
        &self,
        caller: Option<&Principal>,
        presented: &SecretString,
        client: &ClientMeta,
    ) -> Result<(), AuthError> {
        let now = self.now();
        let raw = presented.expose_secret();
        let link = tokens::parse_token(raw);
        let code_used = link.is_none();
        let live = if let Some(token) = link {
            self.mail
                .tokens
                .find_live(token.hash().as_str(), VERIFY_PURPOSE, now)
                .await?
        } else if let Some(code) = tokens::normalise_code(raw) {
            let who = caller.ok_or(AuthError::Unauthenticated(
                "a verification code is accepted only from its logged-in owner: log in, or open the link",
            ))?;
            let newest = self
                .mail
                .tokens
                .newest_live_for(who.user_id, VERIFY_PURPOSE, now)
                .await?;
            let expected = tokens::code_hash(who.user_id, &code);
            match newest {
                Some(row)
                    if row.code_hash.as_ref().is_some_and(|stored| {
                        expected.matches(&crate::auth::secret::TokenHash::from_stored(
                            stored.expose().to_owned(),
                        ))
                    }) =>
                {
                    Some(row)
                }
                Some(row) => {
                    self.mail
                        .tokens
                        .code_failed(row.token_hash.expose(), MAX_CODE_FAILURES, now)
                        .await?;
                    None
                }
                None => None,
            }
        } else {
            None
        };
        let row = live.ok_or(INVALID)?;
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::EmailVerified, now)
                .user(row.user_id)
                .session(caller.and_then(Principal::session_id))
                .client(client)
                .detail("by", if code_used { "code" } else { "link" }),
        );
        let verified = self
            .mail
            .tokens
            .verify_email(
                row.token_hash.expose(),
                row.user_id,
                &row.email,
                &mut journal,
                now,
            )
            .await?;
        self.publish(journal);
        if !verified {
            return Err(INVALID);
        }
        tracing::info!(user_id = %row.user_id, "email address verified");
        Ok(())
    }

    /// `EMAIL_NOT_VERIFIED` when `require_verified_email` is on and the account's address
    /// is not verified. An account without an address (made by an operator) has nothing
    /// to verify and is let through; self-service sign-up must give one under this rule.
    pub(crate) fn check_email_verified(&self, row: &UserRow) -> Result<(), AuthError> {
        if self.mail.require_verified_email
            && row.email.is_some()
            && row.email_verified_at.is_none()
        {
            return Err(AuthError::EmailNotVerified);
        }
        Ok(())
    }

    /// Whether sign-up must name an address.
    pub(crate) fn email_required(&self) -> bool {
        self.mail.require_verified_email
    }
}
