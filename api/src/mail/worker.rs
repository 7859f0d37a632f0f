//! The delivery worker: claims due outbox rows, prepares `requested` ones (reads the
//! account, mints the token, renders) and sends, with retries and backoff.
//!
//! It runs in every instance with `mail_worker` on; claims keep two instances from
//! sending one row twice. Time for claims and backoff comes from the injected clock, so
//! a test moves time instead of waiting; the worker itself looks for due rows every
//! `mail_poll_interval`, and at once when this process writes mail.

use std::sync::{Arc, Weak};

use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::Mailbox;
use tokio::sync::Notify;
use uuid::Uuid;

use super::templates::Templates;
use super::transport::{MailTransport, Outgoing};
use crate::auth::clock::Clock;
use crate::auth::email::kind::MailKind;
use crate::auth::email::tokens;
use crate::config::mail::MailSettings;
use crate::store::outbox::{NewEmailToken, Outbox, OutboxRow, REQUESTED, Rendered, TokenWrite};

/// Rows one round claims at most.
const BATCH: u64 = 16;
/// How long a claim holds a row: longer than one SMTP conversation may take.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// Backoff: 1 s after the first failure, doubling up to 10 minutes.
const FIRST_RETRY: TimeDelta = TimeDelta::seconds(1);
const LONGEST_RETRY: TimeDelta = TimeDelta::minutes(10);
/// How often finished rows and spent tokens are pruned.
const PRUNE_EVERY: TimeDelta = TimeDelta::hours(1);

pub struct MailWorker {
    outbox: Outbox,
    transport: MailTransport,
    templates: Templates,
    from: Mailbox,
    settings: MailSettings,
    clock: Arc<dyn Clock>,
}

/// Delay before attempt `attempts + 1`, after `attempts` failures.
pub fn backoff(attempts: i32) -> TimeDelta {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    FIRST_RETRY
        .checked_mul(1 << doublings)
        .map_or(LONGEST_RETRY, |delay| delay.min(LONGEST_RETRY))
}

impl MailWorker {
    pub fn new(
        settings: &MailSettings,
        outbox: Outbox,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<MailWorker> {
        let from: Mailbox = settings.from.parse().map_err(|_| {
            anyhow::anyhow!("invalid setting `mail_from`: not a mailbox like `Name <address@host>`")
        })?;
        Ok(MailWorker {
            transport: MailTransport::new(&settings.transport)?,
            templates: Templates::load(settings.templates_dir.as_deref())?,
            from,
            outbox,
            settings: settings.clone(),
            clock,
        })
    }

    /// Runs until `alive` is gone (the application was dropped) or `stop` turns true
    /// (the process is stopping); a round already begun is finished first. A row claimed
    /// by a round that never finishes (the process killed) is not lost: its claim lapses
    /// and any instance takes it up.
    pub async fn run<T: Send + Sync>(
        self,
        wake: Arc<Notify>,
        alive: Weak<T>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut last_prune: Option<DateTime<Utc>> = None;
        loop {
            if alive.upgrade().is_none() || *stop.borrow() {
                return;
            }
            let handled = match self.round().await {
                Ok(handled) => handled,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "mail delivery round failed");
                    0
                }
            };
            let now = self.clock.now();
            if last_prune.is_none_or(|at| now - at >= PRUNE_EVERY) {
                last_prune = Some(now);
                self.prune(now).await;
            }
            if handled < BATCH {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(self.settings.poll_interval) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    /// Claims and handles what is due; how many rows it handled.
    pub async fn round(&self) -> anyhow::Result<u64> {
        let now = self.clock.now();
        let claimed = self.outbox.claim_due(now, now + LEASE, BATCH).await?;
        let handled = claimed.len() as u64;
        for (claim, row) in claimed {
            if let Err(e) = self.handle(claim, row).await {
                tracing::warn!(error = %format!("{e:#}"), "mail row not handled");
            }
        }
        Ok(handled)
    }

    async fn handle(&self, claim: Uuid, mut row: OutboxRow) -> anyhow::Result<()> {
        let now = self.clock.now();
        let Some(kind) = MailKind::from_stored(&row.kind) else {
            self.outbox
                .drop_claimed(row.id, claim, "unknown kind", now)
                .await?;
            return Ok(());
        };
        if row.status == REQUESTED {
            match self.prepare(claim, &row, kind, now).await? {
                Some(rendered) => {
                    row.recipient = rendered.recipient;
                    row.subject = Some(rendered.subject);
                    row.body_text = Some(rendered.text.into());
                    row.body_html = Some(rendered.html.into());
                }
                None => return Ok(()),
            }
        }
        let (Some(subject), Some(text), Some(html)) =
            (&row.subject, &row.body_text, &row.body_html)
        else {
            self.outbox
                .drop_claimed(row.id, claim, "no message body", now)
                .await?;
            return Ok(());
        };
        let attempts = row.attempts.saturating_add(1);
        let outcome = self
            .transport
            .send(
                &self.from,
                &Outgoing {
                    to: &row.recipient,
                    subject,
                    text: text.expose(),
                    html: html.expose(),
                },
            )
            .await;
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                self.outbox.mark_sent(row.id, claim, attempts, now).await?;
                tracing::info!(mail_id = %row.id, kind = %row.kind, attempts, "mail sent");
            }
            Err(e) => {
                let error = format!("{e:#}");
                let give_up = now - row.created_at
                    >= TimeDelta::from_std(self.settings.give_up_after).unwrap_or(TimeDelta::MAX);
                if give_up {
                    self.outbox
                        .mark_failed(row.id, claim, attempts, &error, now)
                        .await?;
                    tracing::error!(mail_id = %row.id, kind = %row.kind, attempts, error, "mail given up");
                } else {
                    let next = now + backoff(attempts);
                    self.outbox
                        .retry_later(row.id, claim, attempts, next, &error)
                        .await?;
                    tracing::warn!(mail_id = %row.id, kind = %row.kind, attempts, error, retry_at = %next, "mail not sent; will retry");
                }
            }
        }
        Ok(())
    }

    /// Reads the account a request concerns, mints its token and renders the message,
    /// stored in one transaction. `None` when there is nothing to send (recorded as
    /// `dropped`) or the claim was lost.
    async fn prepare(
        &self,
        claim: Uuid,
        row: &OutboxRow,
        kind: MailKind,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Rendered>> {
        let account = match (kind, row.user_id) {
            (MailKind::PasswordReset, _) => self.outbox.account_by_email(&row.recipient).await?,
            (_, Some(id)) => self.outbox.account(id).await?,
            (_, None) => None,
        };
        let Some(account) = account else {
            // The common case for reset requests naming unknown addresses: nothing is
            // sent, and the request's answer was the same.
            self.outbox
                .drop_claimed(row.id, claim, "no such account", now)
                .await?;
            return Ok(None);
        };
        let current = account.email.as_deref();
        let stale = match kind {
            MailKind::VerifyEmail => {
                current != Some(row.recipient.as_str()) || account.email_verified_at.is_some()
            }
            MailKind::PasswordReset => current != Some(row.recipient.as_str()),
            // The account has the new address already (an earlier change was confirmed).
            MailKind::EmailChange => current == Some(row.recipient.as_str()),
            _ => false,
        };
        if stale {
            self.outbox
                .drop_claimed(
                    row.id,
                    claim,
                    "address no longer current or already verified",
                    now,
                )
                .await?;
            return Ok(None);
        }
        // A change to an address another account has: its owner gets a note in place of
        // the link, and the asker's tokens are left as the link would have left them (the
        // earlier change links void), so nothing the asker sees tells the two apart.
        let taken = kind == MailKind::EmailChange
            && self
                .outbox
                .account_by_email(&row.recipient)
                .await?
                .is_some_and(|owner| owner.id != account.id);
        let links = &self.settings.links;
        let reset_page = format!("{}{}", links.public_url, links.reset_password_path);
        let (tokens_write, link, code, valid_for) = match kind.token_purpose() {
            Some(purpose) if taken => (
                TokenWrite::Void {
                    user_id: account.id,
                    purpose,
                },
                String::new(),
                String::new(),
                String::new(),
            ),
            Some(purpose) => {
                let minted = tokens::mint();
                let (path, ttl) = match kind {
                    MailKind::VerifyEmail => {
                        (&links.verify_email_path, self.settings.verify_token_ttl)
                    }
                    // An address proved by following a link, like a verification.
                    MailKind::EmailChange => (
                        &links.confirm_email_change_path,
                        self.settings.verify_token_ttl,
                    ),
                    _ => (&links.reset_password_path, self.settings.reset_token_ttl),
                };
                // The token travels in the fragment: browsers never send it to a server,
                // so it reaches no access log, proxy or Referer, and a mail scanner that
                // fetches the link fetches only the page.
                let link = format!("{}{path}#token={}", links.public_url, minted.token.expose());
                let code = (kind == MailKind::VerifyEmail).then(|| tokens::code_of(&minted.token));
                let token = NewEmailToken {
                    hash: minted.hash.as_str().to_owned(),
                    user_id: account.id,
                    purpose,
                    email: row.recipient.clone(),
                    code_hash: code
                        .as_deref()
                        .map(|c| tokens::code_hash(account.id, c).as_str().to_owned()),
                    expires_at: now + TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX),
                };
                (
                    TokenWrite::Mint(token),
                    link,
                    code.unwrap_or_default(),
                    spoken(ttl),
                )
            }
            None => (
                TokenWrite::None,
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        // The note to a taken address's owner greets no one: the account that asked is
        // not theirs, and naming either account would tell one owner about the other.
        let (render_as, username) = if taken {
            (MailKind::EmailChangeTaken, "")
        } else {
            (kind, account.username.as_str())
        };
        let message = self
            .templates
            .render(
                render_as,
                &[
                    ("product", self.settings.product_name.as_str()),
                    ("username", username),
                    ("link", link.as_str()),
                    ("code", code.as_str()),
                    ("valid_for", valid_for.as_str()),
                    ("reset_link", reset_page.as_str()),
                ],
            )
            .ok_or_else(|| anyhow::anyhow!("no template for {}", render_as.as_str()))?;
        let rendered = Rendered {
            recipient: row.recipient.clone(),
            subject: message.subject,
            text: message.text,
            html: message.html,
        };
        let prepared = self
            .outbox
            .prepare(
                row.id,
                claim,
                Rendered {
                    recipient: rendered.recipient.clone(),
                    subject: rendered.subject.clone(),
                    text: rendered.text.clone(),
                    html: rendered.html.clone(),
                },
                tokens_write,
                now,
            )
            .await?;
        Ok(prepared.then_some(rendered))
    }

    async fn prune(&self, now: DateTime<Utc>) {
        let retention = TimeDelta::from_std(self.settings.retention).unwrap_or(TimeDelta::MAX);
        let Some(before) = now.checked_sub_signed(retention) else {
            return;
        };
        match self.outbox.prune(before).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "old mail rows and spent tokens deleted"),
            Err(e) => tracing::warn!(error = %e, "could not prune the mail outbox"),
        }
    }
}

/// A token's lifetime as a mail says it: "30 minutes", "24 hours", "1 day".
pub fn spoken(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    let (n, unit) = if secs >= 2 * 86_400 && secs.is_multiple_of(86_400) {
        (secs / 86_400, "days")
    } else if secs >= 3_600 && secs.is_multiple_of(3_600) {
        (secs / 3_600, "hours")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minutes")
    } else {
        (secs, "seconds")
    };
    if n == 1 {
        format!("1 {}", unit.trim_end_matches('s'))
    } else {
        format!("{n} {unit}")
    }
}

/// Starts the worker unless `mail_worker` is off; it ends when `alive` is dropped.
pub fn spawn<T: Send + Sync + 'static>(
    settings: &MailSettings,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    alive: Weak<T>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    // Built even when this instance does not deliver, so a bad `mail_from`, `smtp_url` or
    // template stops every instance's start alike.
    let worker = MailWorker::new(settings, outbox, clock)?;
    Ok(settings
        .worker
        .then(|| tokio::spawn(worker.run(wake, alive, stop))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_spelled_out() {
        use std::time::Duration;
        assert_eq!(spoken(Duration::from_secs(30 * 60)), "30 minutes");
        assert_eq!(spoken(Duration::from_secs(60)), "1 minute");
        assert_eq!(spoken(Duration::from_secs(24 * 3600)), "24 hours");
        assert_eq!(spoken(Duration::from_secs(3600)), "1 hour");
        assert_eq!(spoken(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(spoken(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn backoff_doubles_from_one_second_up_to_ten_minutes() {
        assert_eq!(backoff(1), TimeDelta::seconds(1));
        assert_eq!(backoff(2), TimeDelta::seconds(2));
        assert_eq!(backoff(5), TimeDelta::seconds(16));
        assert_eq!(backoff(10), TimeDelta::seconds(512));
        assert_eq!(backoff(11), TimeDelta::minutes(10));
        assert_eq!(backoff(i32::MAX), TimeDelta::minutes(10));
    }
}
