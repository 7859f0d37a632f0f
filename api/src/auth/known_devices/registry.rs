//! Which browsers an account has logged in from: recognising one by its device cookie,
//! remembering a new one after a successful login.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::device_token::DeviceToken;
use crate::auth::error::AuthError;
use crate::auth::secret::{ExposeSecret as _, SecretString};
use crate::store::known_devices::KnownDevices as DeviceTable;

/// The most devices one account is remembered on; a new one beyond that forgets the least
/// recently used. Enough for a person's browsers, few enough that one account cannot fill
/// the table.
pub const DEVICES_PER_ACCOUNT: u64 = 20;

/// Expired devices are deleted at most this often per instance.
const SWEEP_INTERVAL: chrono::Duration = chrono::Duration::hours(1);

/// A device of the account, recognised by the cookie the browser sent.
#[derive(Debug, Clone)]
pub struct KnownDevice {
    pub id: Uuid,
    token: DeviceToken,
}

/// The device cookie a successful login sets: its value, and when the device is forgotten
/// (the cookie's `Max-Age` runs to then).
#[derive(Clone)]
pub struct DeviceCookie {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for DeviceCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCookie")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub struct KnownDevices {
    table: DeviceTable,
    ttl: Duration,
    last_sweep: Mutex<Option<DateTime<Utc>>>,
}

impl KnownDevices {
    pub fn new(table: DeviceTable, ttl: Duration) -> KnownDevices {
        KnownDevices {
            table,
            ttl,
            last_sweep: Mutex::new(None),
        }
    }

    /// The account's device the cookie names, if it is one: a cookie that is garbled,
    /// forged, expired or of another account's device is ignored (`None`), and the login
    /// is judged as one from anywhere else.
    pub async fn recognise(
        &self,
        account: Uuid,
        cookie: Option<&SecretString>,
        now: DateTime<Utc>,
    ) -> Result<Option<KnownDevice>, AuthError> {
        let Some(token) = cookie.and_then(|c| DeviceToken::parse(c.expose_secret())) else {
            return Ok(None);
        };
        let found = self.table.find(account, token.hash().as_str(), now).await?;
        Ok(found.map(|id| KnownDevice { id, token }))
    }

    /// After a successful login: the cookie to set. A known device keeps its token and is
    /// remembered for another `known_device_ttl`; any other browser becomes a new device.
    /// `None` when it could not be stored: the login still succeeds, without the cookie.
    pub async fn remember(
        &self,
        account: Uuid,
        known: Option<KnownDevice>,
        now: DateTime<Utc>,
    ) -> Option<DeviceCookie> {
        let expires_at = chrono::Duration::from_std(self.ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))?;
        let (token, stored) = match known {
            Some(device) => {
                let touched = self.table.touch(device.id, now, expires_at).await;
                (device.token, touched)
            }
            None => {
                let token = DeviceToken::generate();
                let added = self
                    .table
                    .add(
                        account,
                        token.hash().as_str().to_owned(),
                        now,
                        expires_at,
                        DEVICES_PER_ACCOUNT,
                    )
                    .await
                    .map(|_| ());
                self.sweep_if_due(now);
                (token, added)
            }
        };
        match stored {
            Ok(()) => Some(DeviceCookie {
                token: SecretString::from(token.expose()),
                expires_at,
            }),
            Err(e) => {
                tracing::error!(%account, error = %e, "could not remember the device");
                None
            }
        }
    }

    /// Deletes expired devices in the background, at most once per `SWEEP_INTERVAL` here.
    fn sweep_if_due(&self, now: DateTime<Utc>) {
        {
            let mut last = self
                .last_sweep
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| now < at + SWEEP_INTERVAL) {
                return;
            }
            *last = Some(now);
        }
        let table = self.table.clone();
        tokio::spawn(async move {
            match table.sweep(now).await {
                Ok(swept) => tracing::debug!(swept, "expired known devices deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired known devices"),
            }
        });
    }
}
