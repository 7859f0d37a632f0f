//! The `latchkey` command line.

mod apps;
mod format;
mod hash_timing;
mod keys;
mod mail;
mod users;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use self::apps::AppCommand;
use self::keys::KeysCommand;
use self::mail::MailCommand;
use self::users::UserCommand;
use self::webhooks::WebhookCommand;
use crate::config::Settings;
use crate::startup::Application;
use crate::store::Store;

/// Latchkey: a GraphQL authentication server.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version)]
pub struct Cli {
    /// Configuration file (default: ./latchkey.toml if it exists; also LATCHKEY_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Time argon2id with the configured parameters on this machine: the median of COUNT
    /// hashes, one at a time, and the logins per second the cores can therefore sustain;
    /// then what the hashing threads deliver all at once. Use it to choose
    /// `hash_memory_kib` / `hash_iterations`.
    HashTiming {
        #[arg(long, default_value_t = 20)]
        count: u32,
    },
    /// Manage project API keys (apps) and the origins allowed to use them.
    #[command(subcommand)]
    App(AppCommand),
    /// The mail outbox.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Outbound webhook endpoints: where auth events are POSTed, signed.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Schema) = cli.command {
        // Needs no configuration, so it works anywhere (CI, codegen).
        print!("{}", crate::graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("latchkey: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("latchkey: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let bind = settings.bind.clone();
            let app = Application::build(settings).await?;
            tracing::info!(%bind, port = app.port(), "latchkey listening");
            app.serve_until_signalled()
                .await
                .context("server stopped with an error")
        }
        Command::Migrate => {
            // Whatever `auto_migrate` says: migrating is what this command is for.
            Store::open(&Settings {
                auto_migrate: true,
                ..settings
            })
            .await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Keys(command) => keys::run(command, &settings).await,
        Command::HashTiming { count } => hash_timing::run(&settings, count).await,
        Command::App(command) => apps::run(command, &settings).await,
        Command::User(command) => users::run(command, &settings).await,
        Command::Mail(command) => mail::run(command, &settings).await,
        Command::Webhook(command) => webhooks::run(command, &settings).await,
    }
}
