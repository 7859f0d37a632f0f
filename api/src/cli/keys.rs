//! `latchkey keys rotate|list`: the keys that sign access tokens.

use clap::Subcommand;

use super::format::timestamp;
use crate::auth::clock::{Clock as _, SystemClock};
use crate::auth::tokens::key_ring::KeyStatus;
use crate::auth::tokens::key_source::KeySource;
use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Make a fresh key the signer. Tokens signed by the old key keep working until they
    /// expire; running servers switch to the new key within 30 s.
    Rotate,
    /// One key a line, newest first: kid, then what it does (signer, verifying until a
    /// time, or expired), then when it was created.
    List,
}

pub(super) async fn run(command: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let store = Store::open(settings).await?;
    let source = KeySource::new(settings.signing_key_file.as_deref(), store.keys, now)?;
    let ttl = settings.access_token_ttl;
    match command {
        KeysCommand::Rotate => {
            let rotation = source.rotate(now, ttl).await?;
            println!("{}  signer (new)", rotation.kid);
            for (kid, until) in rotation.retired {
                println!("{kid}  retired, verifies until {}", timestamp(until));
            }
            if rotation.pruned > 0 {
                println!("deleted {} expired key(s)", rotation.pruned);
            }
        }
        KeysCommand::List => {
            let records = source.records(now).await?;
            let from_file = matches!(source, KeySource::File { .. });
            for record in records.iter().rev() {
                let status = match record.status(&records, now, ttl) {
                    KeyStatus::Signer if from_file => "signer (signing_key_file)".to_owned(),
                    KeyStatus::Signer => "signer".to_owned(),
                    KeyStatus::Verifying { until } => {
                        format!("verifies until {}", timestamp(until))
                    }
                    KeyStatus::Expired => "expired".to_owned(),
                };
                println!(
                    "{}  {status}  created {}",
                    record.kid,
                    timestamp(record.created_at)
                );
            }
        }
    }
    Ok(())
}
