//! `latchkey keys rotate|list|seal-init|seal-rotate`: the keys that sign access tokens,
//! and the key that seals secrets at rest.

use std::path::PathBuf;

use clap::Subcommand;

use super::format::timestamp;
use crate::auth::clock::{Clock as _, SystemClock};
use crate::auth::tokens::key_ring::KeyStatus;
use crate::auth::tokens::key_source::KeySource;
use crate::config::Settings;
use crate::store::Store;
use crate::store::sealing::key::SealingKey;

/// Where `seal-init` writes when `--out` is not given.
const DEFAULT_SECRET_KEY_FILE: &str = "latchkey-secret.key";

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Make a fresh key the signer. Tokens signed by the old key keep working until they
    /// expire; running servers switch to the new key within 30 s.
    Rotate,
    /// One key a line, newest first: kid, then what it does (signer, verifying until a
    /// time, or expired), then when it was created.
    List,
    /// Write a new key for sealing secrets at rest (`secret_key_file`): 32 random bytes as
    /// 64 hex characters, in a file created for the owner alone (0600). Never replaces an
    /// existing file. Prints the file and the key's id, never the key.
    SealInit {
        /// The file to create.
        #[arg(long, value_name = "PATH", default_value = DEFAULT_SECRET_KEY_FILE)]
        out: PathBuf,
    },
    /// Re-seal every sealed secret (private signing keys, TOTP secrets) with the key in
    /// PATH, in one transaction; secrets stored in the clear are sealed too. Stop every
    /// server first, then point `secret_key_file` at PATH and start them again: the old
    /// key opens nothing afterwards.
    SealRotate {
        /// The new key file (from `keys seal-init`), the owner's alone.
        #[arg(long, value_name = "PATH")]
        new_key_file: PathBuf,
    },
}

pub(super) async fn run(command: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        KeysCommand::SealInit { out } => seal_init(&out),
        KeysCommand::SealRotate { new_key_file } => seal_rotate(&new_key_file, settings).await,
        KeysCommand::Rotate => rotate(settings).await,
        KeysCommand::List => list(settings).await,
    }
}

fn seal_init(out: &std::path::Path) -> anyhow::Result<()> {
    let key = SealingKey::create_file(out)?;
    println!("wrote {} (key id {}, mode 0600)", out.display(), key.id());
    println!(
        "set secret_key_file = \"{}\" (or LATCHKEY_SECRET_KEY_FILE) and restart to seal \
         the secrets in the database; keep a copy of the file with your backups, apart \
         from them: without it the sealed secrets are lost",
        out.display()
    );
    Ok(())
}

async fn seal_rotate(new_key_file: &std::path::Path, settings: &Settings) -> anyhow::Result<()> {
    let new = SealingKey::from_file(new_key_file, "--new-key-file")?;
    let new_id = new.id().clone();
    let store = Store::open(settings).await?;
    let report = store.reseal(new).await?;
    println!(
        "re-sealed {} secret(s) with key {new_id} ({} already were)",
        report.resealed, report.already
    );
    println!(
        "now set secret_key_file = \"{}\" on every instance and start them; the old key \
         opens nothing any more",
        new_key_file.display()
    );
    Ok(())
}

async fn rotate(settings: &Settings) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let store = Store::open(settings).await?;
    let source = KeySource::new(settings.signing_key_file.as_deref(), store.keys, now)?;
    let rotation = source.rotate(now, settings.access_token_ttl).await?;
    println!("{}  signer (new)", rotation.kid);
    for (kid, until) in rotation.retired {
        println!("{kid}  retired, verifies until {}", timestamp(until));
    }
    if rotation.pruned > 0 {
        println!("deleted {} expired key(s)", rotation.pruned);
    }
    Ok(())
}

async fn list(settings: &Settings) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let ttl = settings.access_token_ttl;
    let store = Store::open(settings).await?;
    let source = KeySource::new(settings.signing_key_file.as_deref(), store.keys, now)?;
    let records = source.records(now).await?;
    let from_file = matches!(source, KeySource::File { .. });
    for record in records.iter().rev() {
        let status = match record.status(&records, now, ttl) {
            KeyStatus::Signer if from_file => "signer (signing_key_file)".to_owned(),
            KeyStatus::Signer => "signer".to_owned(),
            KeyStatus::Verifying { until } => format!("verifies until {}", timestamp(until)),
            KeyStatus::Expired => "expired".to_owned(),
        };
        println!(
            "{}  {status}  created {}",
            record.kid,
            timestamp(record.created_at)
        );
    }
    Ok(())
}
