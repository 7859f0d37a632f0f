//! Creating, listing and deleting apps (`latchkey app ...`). An app's key (`lka_...`) is
//! shown once and stored only as its SHA-256.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::app::{App, AppError, AppName, KEY_PREFIX};
use super::origin::Origin;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::secret::OpaqueSecret;
use crate::store::StoreError;
use crate::store::apps::{Apps, NewApp};
use crate::store::auth_events::Journal;

/// A new app and its key, shown this once.
#[derive(Debug)]
pub struct CreatedApp {
    pub app: App,
    pub key: OpaqueSecret,
}

/// Creates an app with a fresh key; the key is stored only as its hash.
pub async fn create(
    apps: &Apps,
    name: &str,
    origins: &[String],
    require_origin: bool,
    now: DateTime<Utc>,
) -> Result<CreatedApp, AppError> {
    let name = AppName::parse(name)?;
    let mut parsed: Vec<Origin> = Vec::with_capacity(origins.len());
    for raw in origins {
        let origin = Origin::parse(raw)?;
        if !parsed.contains(&origin) {
            parsed.push(origin);
        }
    }
    if parsed.is_empty() {
        return Err(AppError::NoOrigins);
    }
    let key = OpaqueSecret::generate(KEY_PREFIX);
    let id = Uuid::now_v7();
    // Not published on a bus: apps are changed by the CLI, a process of its own; readers
    // of the log find the event in the table.
    let mut journal = Journal::of(
        NewAuthEvent::new(AuthEventKind::AppKeyCreated, now)
            .detail("appId", id.to_string())
            .detail("name", name.as_str())
            .detail("requireOrigin", require_origin),
    );
    let row = apps
        .insert(
            NewApp {
                id,
                name: name.as_str().to_owned(),
                key_hash: key.hash().as_str().to_owned(),
                key_prefix: key.shown_prefix(KEY_PREFIX),
                origins: parsed
                    .iter()
                    .map(Origin::as_str)
                    .collect::<Vec<_>>()
                    .join("\n"),
                require_origin,
                now,
            },
            &mut journal,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::NameTaken(name.as_str().to_owned()),
            other => AppError::Store(other),
        })?;
    tracing::info!(app = %row.name, "app created");
    Ok(CreatedApp {
        app: App::from_row(row),
        key,
    })
}

/// Every app, by name.
pub async fn list(apps: &Apps) -> Result<Vec<App>, AppError> {
    let rows = apps.all().await.map_err(AppError::Store)?;
    Ok(rows.into_iter().map(App::from_row).collect())
}

/// Deletes the app with this name. Running servers stop accepting its key when they next
/// re-read the apps (within the registry's reload interval).
pub async fn delete(apps: &Apps, name: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    let name = name.trim();
    let mut journal =
        Journal::of(NewAuthEvent::new(AuthEventKind::AppKeyRevoked, now).detail("name", name));
    if apps
        .delete_by_name(name, &mut journal)
        .await
        .map_err(AppError::Store)?
    {
        tracing::info!(app = %name, "app deleted");
        Ok(())
    } else {
        Err(AppError::NotFound(name.to_owned()))
    }
}
