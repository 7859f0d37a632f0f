//! Sealing what is already stored: at start, the plain values left by runs without a key;
//! on `latchkey keys seal-rotate`, every value, with a new key.
//!
//! Both write each value with a conditional update (`WHERE value = what was read`), so two
//! instances starting together seal each row once and neither overwrites the other, and a
//! value changed meanwhile (a new enrolment) is never replaced by a stale one.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter as _, QuerySelect as _, Select,
    TransactionTrait as _,
};
use uuid::Uuid;

use latchkey_entity::{signing_key, totp, webhook_endpoint};

use super::envelope::{self, Place, SEALED_PREFIX, SealError, Stored};
use super::key::SealingKey;
use super::{Sealer, signing_key_place, totp_place, webhook_secret_place};
use crate::store::{Db, StoreError};

/// The columns that hold sealed secrets.
#[derive(Clone, Copy, Debug)]
enum Table {
    SigningKeys,
    Totp,
    WebhookEndpoints,
}

const TABLES: [Table; 3] = [Table::SigningKeys, Table::Totp, Table::WebhookEndpoints];

/// A row's primary key.
#[derive(Clone, Debug)]
enum RowId {
    Kid(String),
    User(Uuid),
    Webhook(Uuid),
}

/// One stored secret as read.
struct StoredValue {
    id: RowId,
    place: Place,
    stored: String,
}

/// Which rows to read.
enum Rows<'a> {
    All,
    Plain,
    /// One sealed row, if any, that this key did not seal (any sealed row without a key).
    SealedByAnotherKey(Option<&'a SealingKey>),
}

impl Rows<'_> {
    /// Narrows `query` to these rows, judged by the sealed `column`.
    fn select<E: EntityTrait>(&self, query: Select<E>, column: impl ColumnTrait) -> Select<E> {
        match self {
            Rows::All => query,
            Rows::Plain => query.filter(column.not_like(sealed_pattern(None))),
            Rows::SealedByAnotherKey(key) => {
                let sealed = query.filter(column.like(sealed_pattern(None)));
                match key {
                    Some(key) => sealed.filter(column.not_like(sealed_pattern(Some(key)))),
                    None => sealed,
                }
                .limit(1)
            }
        }
    }
}

/// `LIKE` pattern of every sealed value, or of those sealed by `key`. Key ids are hex, so
/// they hold no `LIKE` wildcard.
fn sealed_pattern(key: Option<&SealingKey>) -> String {
    match key {
        Some(key) => format!("{SEALED_PREFIX}v1:{}:%", key.id()),
        None => format!("{SEALED_PREFIX}%"),
    }
}

impl Table {
    async fn read(
        self,
        db: &impl ConnectionTrait,
        rows: &Rows<'_>,
    ) -> Result<Vec<StoredValue>, DbErr> {
        match self {
            Table::SigningKeys => {
                let query = signing_key::Entity::find();
                Ok(rows
                    .select(query, signing_key::Column::PrivateKey)
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|row| StoredValue {
                        place: signing_key_place(&row.kid),
                        id: RowId::Kid(row.kid),
                        stored: row.private_key.0,
                    })
                    .collect())
            }
            Table::Totp => {
                let query = totp::Entity::find();
                Ok(rows
                    .select(query, totp::Column::Secret)
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|row| StoredValue {
                        place: totp_place(row.user_id),
                        id: RowId::User(row.user_id),
                        stored: row.secret.0,
                    })
                    .collect())
            }
            Table::WebhookEndpoints => {
                let query = webhook_endpoint::Entity::find();
                Ok(rows
                    .select(query, webhook_endpoint::Column::Secret)
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|row| StoredValue {
                        place: webhook_secret_place(row.id),
                        id: RowId::Webhook(row.id),
                        stored: row.secret.0,
                    })
                    .collect())
            }
        }
    }
}

/// Writes `new` in place of `value` if the row still holds what was read; whether it did.
async fn replace(
    db: &impl ConnectionTrait,
    value: &StoredValue,
    new: String,
) -> Result<bool, DbErr> {
    let replaced = match &value.id {
        RowId::Kid(kid) => {
            signing_key::Entity::update_many()
                .col_expr(signing_key::Column::PrivateKey, Expr::value(new))
                .filter(signing_key::Column::Kid.eq(kid.as_str()))
                .filter(signing_key::Column::PrivateKey.eq(value.stored.as_str()))
                .exec(db)
                .await?
        }
        RowId::User(user_id) => {
            totp::Entity::update_many()
                .col_expr(totp::Column::Secret, Expr::value(new))
                .filter(totp::Column::UserId.eq(*user_id))
                .filter(totp::Column::Secret.eq(value.stored.as_str()))
                .exec(db)
                .await?
        }
        RowId::Webhook(id) => {
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::Secret, Expr::value(new))
                .filter(webhook_endpoint::Column::Id.eq(*id))
                .filter(webhook_endpoint::Column::Secret.eq(value.stored.as_str()))
                .exec(db)
                .await?
        }
    };
    Ok(replaced.rows_affected == 1)
}

/// The start's check and sealing: refuses (naming the row and the keys) when a value is
/// sealed by another key, or sealed while no key is configured; then, with a key, seals
/// every plain value. Returns how many it sealed.
///
/// Only the key ids are compared here, not every value opened: a single altered or moved
/// TOTP secret fails that account's logins (logged as an internal error), and does not
/// stop the server for everyone. The signing keys are opened when the key ring loads.
pub(crate) async fn seal_existing(db: &Db, sealer: &Sealer) -> anyhow::Result<u64> {
    let key = sealer.key();
    for table in TABLES {
        let foreign = table
            .read(db.reader(), &Rows::SealedByAnotherKey(key))
            .await
            .map_err(StoreError::from)?;
        for value in foreign {
            // LIKE ignores case on SQLite: only a value that really is another key's counts.
            if let Err(error) = envelope::open(key, &value.place, &value.stored)
                && !matches!(error, SealError::Tampered { .. })
            {
                anyhow::bail!(refusal(&value.place, &error));
            }
        }
    }
    let Some(key) = key else {
        return Ok(0);
    };
    let mut sealed = 0;
    for table in TABLES {
        let plain = table
            .read(db.reader(), &Rows::Plain)
            .await
            .map_err(StoreError::from)?;
        for value in plain {
            if envelope::classify(&value.stored) != Ok(Stored::Plain) {
                continue;
            }
            let text = sealer.seal(&value.place, &value.stored.as_str().into())?;
            // Another instance starting at the same moment may have sealed it first.
            if replace(&*db.writer().await, &value, text)
                .await
                .map_err(StoreError::from)?
            {
                sealed += 1;
            }
        }
    }
    if sealed > 0 {
        tracing::info!(sealed, key_id = %key.id(), "sealed secrets that were stored in the clear");
    }
    Ok(sealed)
}

fn refusal(place: &Place, error: &SealError) -> String {
    let what = format!("{}.{} of row {}", place.table, place.column, place.row);
    match error {
        SealError::NoKey { found } => format!(
            "{what} is sealed with key {found}, but `secret_key_file` is not set: set it to \
             the key file that sealed this database (key id {found})"
        ),
        SealError::OtherKey { found, configured } => format!(
            "invalid setting `secret_key_file`: it holds key {configured}, but {what} is \
             sealed with key {found}: point it at the key file that sealed this database, \
             or finish `latchkey keys seal-rotate` to key {configured}"
        ),
        other => format!("{what}: {other}"),
    }
}

/// What `seal-rotate` did.
#[derive(Debug, Default)]
pub struct Resealed {
    /// Values now sealed by the new key (plain ones included).
    pub resealed: u64,
    /// Values the new key had sealed already (a second run).
    pub already: u64,
}

/// Re-seals every value with `new`, in one transaction: values sealed by the current key
/// (`current`) are opened and sealed again, plain ones are sealed, values the new key
/// sealed already are left as they are. Anything else (a value of a third key, one that
/// does not open) stops the rotation before anything is written.
pub(crate) async fn reseal(db: &Db, current: &Sealer, new: SealingKey) -> anyhow::Result<Resealed> {
    if current.key().is_some_and(|key| key.id() == new.id()) {
        anyhow::bail!(
            "the new key file holds the key in use ({}): make a new one with \
             `latchkey keys seal-init`",
            new.id()
        );
    }
    let new_id = new.id().clone();
    let next = Sealer::with_key(new);
    let mut changes = Vec::new();
    let mut report = Resealed::default();
    for table in TABLES {
        for value in table
            .read(db.reader(), &Rows::All)
            .await
            .map_err(StoreError::from)?
        {
            if let Ok(Stored::Sealed { key_id, .. }) = envelope::classify(&value.stored)
                && key_id == new_id
            {
                report.already += 1;
                continue;
            }
            let plain = envelope::open(current.key(), &value.place, &value.stored)
                .map_err(|error| anyhow::anyhow!(refusal(&value.place, &error)))?;
            let text = next.seal(&value.place, &plain)?;
            changes.push((value, text));
        }
    }
    let writer = db.writer().await;
    let txn = writer.begin().await.map_err(StoreError::from)?;
    for (value, text) in changes {
        if !replace(&txn, &value, text)
            .await
            .map_err(StoreError::from)?
        {
            txn.rollback().await.map_err(StoreError::from)?;
            anyhow::bail!(
                "{}.{} of row {} changed while re-sealing; nothing was changed: stop every \
                 server on this database and run the command again",
                value.place.table,
                value.place.column,
                value.place.row
            );
        }
        report.resealed += 1;
    }
    txn.commit().await.map_err(StoreError::from)?;
    tracing::info!(resealed = report.resealed, key_id = %new_id, "re-sealed the secrets at rest");
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::DateTime;
    use secrecy::{ExposeSecret as _, SecretString};

    use super::*;
    use crate::store::Store;

    const PRIVATE: &str = "MC4CAQAwBQYDK2VwBCIEIPlainPrivateKeyForTheSealingTests000";

    /// A migrated, empty database in a temporary directory (kept alive by the `TempDir`).
    async fn store(sealer: Sealer) -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect_with(&url, sealer).await.unwrap();
        store.migrate().await.unwrap();
        (store, dir)
    }

    async fn raw_private_key(store: &Store) -> String {
        signing_key::Entity::find()
            .one(store.db.reader())
            .await
            .unwrap()
            .unwrap()
            .private_key
            .0
    }

    fn at() -> DateTime<chrono::Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[tokio::test]
    async fn plain_values_are_sealed_once_and_open_to_what_they_were() {
        let (plain, _dir) = store(Sealer::none()).await;
        plain
            .keys
            .insert(
                "kid-1".into(),
                &SecretString::from(PRIVATE),
                "x".into(),
                at(),
            )
            .await
            .unwrap();
        assert_eq!(raw_private_key(&plain).await, PRIVATE);

        let sealer = Sealer::with_key(SealingKey::generate());
        let sealed =
            Store::from_connection(plain.db.clone(), sealer.clone(), plain.instance_tag.clone());
        assert_eq!(seal_existing(&sealed.db, &sealer).await.unwrap(), 1);
        let raw = raw_private_key(&sealed).await;
        assert!(raw.starts_with("sealed:v1:"), "{raw}");
        assert_eq!(seal_existing(&sealed.db, &sealer).await.unwrap(), 0);
        assert_eq!(
            raw_private_key(&sealed).await,
            raw,
            "sealing again changes nothing"
        );
        let rows = sealed.keys.all().await.unwrap();
        assert_eq!(rows[0].private_key.expose_secret(), PRIVATE);
    }

    #[tokio::test]
    async fn a_sealed_value_without_the_key_or_with_another_key_is_refused_naming_both() {
        let key = SealingKey::generate();
        let key_id = key.id().to_string();
        let sealer = Sealer::with_key(key);
        let (sealed, _dir) = store(sealer.clone()).await;
        sealed
            .keys
            .insert(
                "kid-1".into(),
                &SecretString::from(PRIVATE),
                "x".into(),
                at(),
            )
            .await
            .unwrap();

        let error = seal_existing(&sealed.db, &Sealer::none())
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("secret_key_file") && error.contains(&key_id),
            "{error}"
        );
        let other = Sealer::with_key(SealingKey::generate());
        let other_id = other.key().unwrap().id().to_string();
        let error = seal_existing(&sealed.db, &other)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains(&key_id) && error.contains(&other_id) && error.contains("kid-1"),
            "{error}"
        );
        assert!(!error.contains(PRIVATE));
    }

    #[tokio::test]
    async fn rotation_reseals_everything_with_the_new_key_and_a_second_run_changes_nothing() {
        let old = Sealer::with_key(SealingKey::generate());
        let (sealed, _dir) = store(old.clone()).await;
        sealed
            .keys
            .insert(
                "kid-1".into(),
                &SecretString::from(PRIVATE),
                "x".into(),
                at(),
            )
            .await
            .unwrap();
        let hex: String = (0..64)
            .map(|i| if i % 2 == 0 { 'a' } else { '7' })
            .collect();
        let new = || SealingKey::parse(&hex.as_str().into()).unwrap();
        let new_id = new().id().to_string();

        let report = reseal(&sealed.db, &old, new()).await.unwrap();
        assert_eq!((report.resealed, report.already), (1, 0));
        let raw = raw_private_key(&sealed).await;
        assert!(raw.starts_with(&format!("sealed:v1:{new_id}:")), "{raw}");
        let again = reseal(&sealed.db, &old, new()).await.unwrap();
        assert_eq!((again.resealed, again.already), (0, 1));

        let reopened = Store::from_connection(
            sealed.db.clone(),
            Sealer::with_key(new()),
            sealed.instance_tag.clone(),
        );
        let rows = reopened.keys.all().await.unwrap();
        assert_eq!(rows[0].private_key.expose_secret(), PRIVATE);
        assert!(
            sealed.keys.all().await.is_err(),
            "the old key opens nothing any more"
        );
    }
}
