//! `latchkey mail status`: what the outbox holds.

use clap::Subcommand;

use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum MailCommand {
    /// Mails sent, failed (given up after `mail_give_up_after`) and pending (waiting for
    /// the worker or a retry), one count a line; `dropped` counts requests with nothing
    /// to send (a reset for an address no account has, say).
    Status,
}

pub(super) async fn run(command: MailCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = Store::open(settings).await?;
    match command {
        MailCommand::Status => {
            let counts = store.outbox.counts().await?;
            println!("sent {}", counts.sent);
            println!("failed {}", counts.failed);
            println!("pending {}", counts.pending);
            println!("dropped {}", counts.dropped);
        }
    }
    Ok(())
}
