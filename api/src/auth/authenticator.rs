//! The authentication service: the one object the GraphQL layer calls.
//!
//! It holds one of each capability and the clock. Its methods are written beside the
//! capability that owns their outcome (`sessions/login.rs`, `passwords/change.rs`, ...);
//! each uses the capabilities only through their public methods.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::accounts::directory::AccountDirectory;
use super::clock::Clock;
use super::credential_cache::CredentialCache;
use super::email::limits::MailRequests;
use super::events::EventBus;
use super::events::log::EventLog;
use super::known_devices::registry::KnownDevices;
use super::passkeys::RelyingParty;
use super::passkeys::stored::PasskeyFactor;
use super::passwords::expiry::PasswordAge;
use super::passwords::hasher::PasswordHasher;
use super::passwords::stored::StoredPasswords;
use super::personal_tokens::ledger::PersonalTokenLedger;
use super::sessions::ledger::SessionLedger;
use super::sessions::step_up::ReauthWindow;
use super::throttle::gate::Throttle;
use super::tokens::authority::TokenAuthority;
use super::totp::factor::TotpFactor;
use crate::config::Settings;
use crate::store::Store;
use crate::store::auth_events::Journal;

/// Switches that change what the API offers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Offered {
    pub signup: bool,
    pub api_keys_required: bool,
}

pub struct Authenticator {
    pub(super) clock: Arc<dyn Clock>,
    pub(super) offered: Offered,
    pub(super) accounts: AccountDirectory,
    pub(super) passwords: StoredPasswords,
    pub(super) tokens: TokenAuthority,
    pub(super) sessions: SessionLedger,
    pub(super) reauth_window: ReauthWindow,
    pub(super) personal_tokens: PersonalTokenLedger,
    pub(super) throttle: Throttle,
    pub(super) known_devices: KnownDevices,
    pub(super) totp: TotpFactor,
    pub(super) mail: MailRequests,
    pub(super) passkeys: PasskeyFactor,
    pub(super) event_log: EventLog,
    /// Sessions and personal tokens verified a moment ago, with their accounts.
    pub(super) credentials: Arc<CredentialCache>,
    /// Where written events are announced after their transaction commits.
    events: Arc<EventBus>,
}

impl Authenticator {
    /// Starts every capability: the hashing threads, and the signing keys (creating the
    /// first one if the database has none).
    pub async fn start(
        settings: &Settings,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Authenticator> {
        let now = clock.now();
        let hasher = PasswordHasher::new(&settings.hashing)?;
        let tokens = TokenAuthority::start(settings, store.keys.clone(), now).await?;
        let password_age = PasswordAge::new(settings.password_max_age);
        Ok(Authenticator {
            offered: Offered {
                signup: settings.signup,
                api_keys_required: settings.api_keys_required,
            },
            accounts: AccountDirectory::new(store.users.clone(), password_age),
            passwords: StoredPasswords::new(hasher, store.users.clone()),
            tokens,
            sessions: SessionLedger::new(
                store.sessions.clone(),
                settings.session_ttl,
                settings.refresh_reuse_grace,
                settings.session_retention,
            ),
            reauth_window: ReauthWindow::new(settings.reauth_window),
            personal_tokens: PersonalTokenLedger::new(
                store.auth_headers.clone(),
                settings.auth_header_max_ttl,
            ),
            throttle: Throttle::new(
                store.login_throttle.clone(),
                settings.login_free_failures,
                settings.login_lock_max,
                settings.ip_failures_per_minute,
            ),
            known_devices: KnownDevices::new(
                store.known_devices.clone(),
                settings.known_device_ttl,
            ),
            totp: TotpFactor::new(store.totp.clone()),
            mail: MailRequests::new(
                store.outbox.clone(),
                store.email_tokens.clone(),
                &settings.mail,
            ),
            passkeys: PasskeyFactor::new(
                RelyingParty::new(&settings.webauthn)?,
                store.passkeys.clone(),
                store.webauthn_challenges.clone(),
            ),
            event_log: EventLog::new(store.auth_events.clone(), settings.event_retention),
            // Changes made by other processes are heard only through PostgreSQL's
            // notifications, and only once `crate::notify` is listening.
            credentials: Arc::new(CredentialCache::new(
                settings.session_cache_size,
                settings.session_cache_ttl,
                !store.is_postgres(),
            )),
            events: Arc::new(EventBus::new()),
            clock,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Re-reads the signing keys, so a rotation made by another process takes effect here:
    /// its new key becomes the signer and the JWKS follows.
    pub async fn reload_keys(&self) -> anyhow::Result<()> {
        self.tokens.reload(self.now()).await
    }

    /// The bus written events are announced on (`subscribe` to hear them).
    pub fn event_bus(&self) -> Arc<EventBus> {
        self.events.clone()
    }

    /// The credentials this instance remembers (for `crate::notify`, which makes it forget
    /// what other processes changed).
    pub fn credential_cache(&self) -> Arc<CredentialCache> {
        self.credentials.clone()
    }

    /// Announces the events a committed change wrote: the one call site of
    /// `EventBus::publish` for this process's changes. First, and before the request that
    /// made the change answers, what is remembered of the accounts they concern is
    /// forgotten, so the next request reads the database. Also the moment old events are
    /// pruned, when that is due.
    pub(crate) fn publish(&self, journal: Journal) {
        let written = journal.into_written();
        if written.is_empty() {
            return;
        }
        for event in &written {
            forget_credentials(&self.credentials, event);
        }
        for event in written {
            self.events.publish(event);
        }
        self.event_log.prune_if_due(self.now());
    }

    /// Prunes old events if due: called now and then by the server, so events age out
    /// even where nothing new is written.
    pub fn prune_events_if_due(&self) {
        self.event_log.prune_if_due(self.now());
    }

    pub fn access_token_ttl(&self) -> Duration {
        self.tokens.ttl()
    }

    /// What the mail delivery worker waits on: signalled when this process writes mail.
    pub fn mail_wake_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.mail.wake_signal()
    }

    /// The public signing keys (RFC 7517).
    pub fn jwks(&self) -> serde_json::Value {
        self.tokens.jwks()
    }
}

/// Makes `cache` forget what `event` may have changed: its account's credentials, or, for
/// an event that changes credentials but names no account, everything.
pub fn forget_credentials(cache: &CredentialCache, event: &super::events::AuthEvent) {
    if !event.kind.is_none_or(|kind| kind.changes_credentials()) {
        return;
    }
    match event.user_id {
        Some(user_id) => cache.forget_user(user_id),
        None => cache.forget_all(),
    }
}
