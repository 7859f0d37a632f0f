//! Security notices: a short mail to the account's verified address when its password
//! changes, TOTP is turned on or off, or a personal token is created, each with a line on
//! what to do if it was not them; and when a browser without the known-device cookie logs
//! in. Each kind can be turned off (`notify_*` settings).

use uuid::Uuid;

use super::kind::MailKind;
use super::limits::new_mail;
use crate::auth::authenticator::Authenticator;
use crate::store::outbox::NewMail;
use crate::store::users::UserRow;

impl Authenticator {
    fn notice_enabled(&self, kind: MailKind) -> bool {
        let notices = self.mail.notices;
        match kind {
            MailKind::PasswordChanged => notices.password_changed,
            MailKind::TotpEnabled | MailKind::TotpDisabled => notices.totp_changed,
            MailKind::PersonalTokenCreated => notices.personal_token_created,
            MailKind::NewDevice => notices.new_device,
            // Parts of their flows, not optional notices.
            MailKind::VerifyEmail
            | MailKind::PasswordReset
            | MailKind::EmailChange
            | MailKind::EmailChangeRequested
            | MailKind::EmailChangeTaken => false,
        }
    }

    /// The notice of `kind` for the account, to be written with the change it reports;
    /// `None` when that kind is off or the account has no verified address.
    pub(crate) fn notice_for(&self, row: &UserRow, kind: MailKind) -> Option<NewMail> {
        let email = row
            .email
            .as_deref()
            .filter(|_| row.email_verified_at.is_some())?;
        self.notice_to(row, email, kind)
    }

    /// The notice of `kind` to `email`, an address just proved to be the account's.
    pub(crate) fn notice_to(&self, row: &UserRow, email: &str, kind: MailKind) -> Option<NewMail> {
        self.notice_enabled(kind)
            .then(|| new_mail(kind, Some(row.id), email, None))
    }

    /// Writes the notice of `kind` for the account after a change that has committed.
    /// Best effort: a notice that cannot be written is logged, and the change stands.
    pub(crate) async fn send_notice(&self, user_id: Uuid, kind: MailKind) {
        let written = async {
            let Some(row) = self.accounts.find(user_id).await? else {
                return Ok(false);
            };
            let Some(mail) = self.notice_for(&row, kind) else {
                return Ok(false);
            };
            self.mail.outbox.enqueue(mail, self.now()).await?;
            Ok::<bool, crate::auth::AuthError>(true)
        }
        .await;
        match written {
            Ok(true) => self.mail.written(),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%user_id, kind = kind.as_str(), error = %e, "could not write a security notice");
            }
        }
    }
}
