//! `latchkey app add|list|delete`: project API keys and their origins.

use clap::Subcommand;

use crate::auth::clock::{Clock as _, SystemClock};
use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum AppCommand {
    /// Create an app and print its API key. The key is shown only this once (it is stored
    /// as a hash) and is alone on the last line of the output. Running servers accept it
    /// at once.
    Add {
        /// 1 to 64 letters, digits, `.`, `_` or `-`.
        name: String,
        /// An origin allowed to use the key, like https://app.example.com; repeat for more.
        #[arg(long = "origin", value_name = "ORIGIN", required = true)]
        origins: Vec<String>,
        /// Refuse requests that carry no Origin header (servers and curl send none).
        #[arg(long)]
        require_origin: bool,
    },
    /// One app a line: name, key prefix, origins, and `require-origin` when set.
    List,
    /// Delete an app. Running servers refuse its key within 60 s.
    Delete { name: String },
}

pub(super) async fn run(command: AppCommand, settings: &Settings) -> anyhow::Result<()> {
    use crate::auth::apps::management as apps;
    use crate::auth::apps::origin::Origin;
    let joined = |origins: &[Origin]| {
        origins
            .iter()
            .map(Origin::as_str)
            .collect::<Vec<_>>()
            .join(",")
    };
    let store = Store::open(settings).await?;
    match command {
        AppCommand::Add {
            name,
            origins,
            require_origin,
        } => {
            let created = apps::create(
                &store.apps,
                &name,
                &origins,
                require_origin,
                SystemClock.now(),
            )
            .await?;
            let app = &created.app;
            println!("created app {} ({})", app.name, app.id);
            println!("allowed origins: {}", joined(&app.origins));
            if app.require_origin {
                println!("requests without an Origin header are refused");
            }
            println!("API key (shown only this once; send it as x-api-key):");
            println!("{}", created.key.expose());
        }
        AppCommand::List => {
            let apps = apps::list(&store.apps).await?;
            if apps.is_empty() {
                eprintln!("no apps");
            }
            for app in apps {
                let marker = if app.require_origin {
                    "  require-origin"
                } else {
                    ""
                };
                println!(
                    "{}  {}  {}{marker}",
                    app.name,
                    app.key_prefix,
                    joined(&app.origins)
                );
            }
        }
        AppCommand::Delete { name } => {
            apps::delete(&store.apps, &name, SystemClock.now()).await?;
            println!("deleted app {name}; running servers refuse its key within 60 s");
        }
    }
    Ok(())
}
