//! The outbox as the flows see it: a request for a mail, under the hourly limits.
//!
//! Limits count requests in the outbox (so they hold across instances): per recipient
//! (`mail_per_address_per_hour`) and per client address (`mail_per_client_per_hour`). A
//! request over either limit is not written, and the flow answers exactly as if it had
//! been: the answer must not tell whether an address has an account, nor whether it was
//! asked about lately.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;
use uuid::Uuid;

use super::kind::MailKind;
use crate::auth::error::AuthError;
use crate::config::mail::{MailNotices, MailSettings};
use crate::store::email_tokens::EmailTokens;
use crate::store::outbox::{NewMail, Outbox};

const HOUR: TimeDelta = TimeDelta::hours(1);

pub struct MailRequests {
    pub(crate) outbox: Outbox,
    pub(crate) tokens: EmailTokens,
    per_address_per_hour: u64,
    per_client_per_hour: u64,
    pub(crate) notices: MailNotices,
    pub(crate) require_verified_email: bool,
    /// Wakes the delivery worker when a request is written.
    wake: Arc<Notify>,
}

impl MailRequests {
    pub fn new(outbox: Outbox, tokens: EmailTokens, settings: &MailSettings) -> MailRequests {
        MailRequests {
            outbox,
            tokens,
            per_address_per_hour: u64::from(settings.per_address_per_hour),
            per_client_per_hour: u64::from(settings.per_client_per_hour),
            notices: settings.notices,
            require_verified_email: settings.require_verified_email,
            wake: Arc::new(Notify::new()),
        }
    }

    /// What the delivery worker waits on.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Tells the worker a request was written (by this process, in some transaction).
    pub fn written(&self) {
        self.wake.notify_one();
    }

    /// Whether another mail to `recipient`, caused by `client_ip`, is within the limits.
    pub async fn allowed(
        &self,
        recipient: &str,
        client_ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let (to_recipient, from_client) = self
            .outbox
            .recent_counts(recipient, client_ip, now - HOUR)
            .await?;
        let allowed =
            to_recipient < self.per_address_per_hour && from_client < self.per_client_per_hour;
        if !allowed {
            // No address in the log: the count is what an operator needs.
            tracing::info!(
                kind = "mail_limit",
                "mail request over the hourly limit: not sent"
            );
        }
        Ok(allowed)
    }

    /// Writes a request, if within the limits; `true` if it was written.
    pub async fn request(
        &self,
        kind: MailKind,
        user_id: Option<Uuid>,
        recipient: &str,
        client_ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        if !self.allowed(recipient, client_ip, now).await? {
            return Ok(false);
        }
        self.outbox
            .enqueue(new_mail(kind, user_id, recipient, client_ip), now)
            .await?;
        self.written();
        Ok(true)
    }
}

impl MailRequests {
    /// Writes an email change's two mails in one transaction: the link to `new`, and the
    /// notice to `old` (the account's verified address, if it has one). `false` if nothing
    /// was written.
    ///
    /// The request is refused whole when the client or the old address is over its limit:
    /// no change may go ahead unannounced. Whether the link is written depends on the new
    /// address's count alone, and the notice does not depend on it, so what reaches the
    /// old address (which the asker may read) says nothing about the new one.
    pub async fn request_email_change(
        &self,
        user_id: Uuid,
        old: Option<&str>,
        new: &str,
        client_ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let (to_new, from_client) = self
            .outbox
            .recent_counts(new, client_ip, now - HOUR)
            .await?;
        let to_old = match old {
            Some(old) => self.outbox.recent_counts(old, None, now - HOUR).await?.0,
            None => 0,
        };
        if to_old >= self.per_address_per_hour || from_client >= self.per_client_per_hour {
            tracing::info!(
                kind = "mail_limit",
                "mail request over the hourly limit: not sent"
            );
            return Ok(false);
        }
        let mut mails = Vec::with_capacity(2);
        if let Some(old) = old {
            mails.push(new_mail(
                MailKind::EmailChangeRequested,
                Some(user_id),
                old,
                client_ip,
            ));
        }
        if to_new < self.per_address_per_hour {
            mails.push(new_mail(
                MailKind::EmailChange,
                Some(user_id),
                new,
                client_ip,
            ));
        } else {
            tracing::info!(
                kind = "mail_limit",
                "mail request over the hourly limit: not sent"
            );
        }
        if mails.is_empty() {
            return Ok(false);
        }
        self.outbox.enqueue_all(mails, now).await?;
        self.written();
        Ok(true)
    }
}

pub fn new_mail(
    kind: MailKind,
    user_id: Option<Uuid>,
    recipient: &str,
    client_ip: Option<&str>,
) -> NewMail {
    NewMail {
        kind: kind.as_str(),
        user_id,
        recipient: recipient.to_owned(),
        client_ip: client_ip.map(str::to_owned),
    }
}
