//! The `latchkey` command line.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::auth::AuthError;
use crate::auth::account::Role;
use crate::auth::clock::{Clock as _, SystemClock};
use crate::auth::keys::KeyStatus;
use crate::auth::password::PasswordHasher;
use crate::auth::service::{Authenticator, RegisterRequest};
use crate::auth::signing::KeySource;
use crate::auth::values::Password;
use crate::config::Settings;
use crate::startup::Application;
use crate::store::Store;

/// Latchkey: a GraphQL authentication server.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about)]
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
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a fresh key the signer. Tokens signed by the old key keep working until they
    /// expire; running servers switch to the new key within 30 s.
    Rotate,
    /// One key a line, newest first: kid, then what it does (signer, verifying until a
    /// time, or expired), then when it was created.
    List,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from LATCHKEY_NEW_PASSWORD, else from the
    /// first line of standard input; never from an argument, where it would show in `ps`.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        firstname: Option<String>,
        #[arg(long)]
        lastname: Option<String>,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Delete an account and everything it owns (sessions, personal tokens): its tokens
    /// stop working at once.
    Delete {
        #[arg(long)]
        username: String,
    },
    /// One account a line, oldest first: username, id, role, email, created.
    List,
    /// Make an account an administrator, or a regular user again.
    SetRole {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

/// `--role` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    User,
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
            app.run_until_stopped()
                .await
                .context("server stopped with an error")
        }
        Command::Migrate => {
            let store = Store::connect(&settings.database_url).await?;
            store.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Keys(command) => keys(command, &settings).await,
        Command::HashTiming { count } => hash_timing(&settings, count).await,
        Command::App(command) => app_command(command, &settings).await,
        Command::User(command) => user_command(command, &settings).await,
    }
}

/// Connects (migrating if configured) and starts the authenticator, as the server would.
async fn authenticator(settings: &Settings) -> anyhow::Result<Authenticator> {
    let store = Store::connect(&settings.database_url).await?;
    if settings.auto_migrate {
        store.migrate().await?;
    }
    Authenticator::start(settings, store, Arc::new(SystemClock)).await
}

async fn user_command(command: UserCommand, settings: &Settings) -> anyhow::Result<()> {
    // Validation and "no such account" errors are the operator's to read; anything else
    // keeps its cause chain.
    let operator_error = |e: AuthError| match e {
        AuthError::Internal(e) => e,
        e => anyhow::anyhow!("{e}"),
    };
    match command {
        UserCommand::Add {
            username,
            email,
            firstname,
            lastname,
            admin,
        } => {
            let password = new_password()?;
            let auth = authenticator(settings).await?;
            let role = if admin { Role::Admin } else { Role::User };
            let request = RegisterRequest {
                username,
                email,
                password,
                firstname,
                lastname,
                role,
            };
            let account = auth.create_account(request).await.map_err(operator_error)?;
            println!(
                "created {} ({}) as {}",
                account.username,
                account.id,
                account.role.as_str()
            );
        }
        UserCommand::Delete { username } => {
            let auth = authenticator(settings).await?;
            let account = auth
                .delete_account(&username)
                .await
                .map_err(|e| operator_error(e).context(username.clone()))?;
            println!("deleted {} ({})", account.username, account.id);
        }
        UserCommand::List => {
            let auth = authenticator(settings).await?;
            for account in auth.all_accounts().await.map_err(operator_error)? {
                println!(
                    "{}  {}  {}  {}  created {}",
                    account.username,
                    account.id,
                    account.role.as_str(),
                    account.email.as_deref().unwrap_or("-"),
                    timestamp(account.created_at)
                );
            }
        }
        UserCommand::SetRole { username, role } => {
            let auth = authenticator(settings).await?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::User => Role::User,
            };
            let account = auth
                .set_role(&username, role)
                .await
                .map_err(|e| operator_error(e).context(username.clone()))?;
            println!(
                "{} ({}) is now {}",
                account.username,
                account.id,
                role.as_str()
            );
        }
    }
    Ok(())
}

async fn keys(command: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let store = Store::connect(&settings.database_url).await?;
    if settings.auto_migrate {
        store.migrate().await?;
    }
    let source = KeySource::new(settings.signing_key_file.as_deref(), store, now)?;
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

async fn hash_timing(settings: &Settings, count: u32) -> anyhow::Result<()> {
    let params = settings.hashing;
    let hasher = PasswordHasher::new(params)?;
    let password = Password::presented("a benchmark passphrase 42".to_owned(), "password")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let count = count.max(1);
    // Unmeasured hashes first, one per hashing thread: each thread's first hash touches
    // fresh memory and pays its page faults.
    hash_all(&hasher, &password, params.concurrency.max(1), 1).await?;
    let mut millis = Vec::new();
    for _ in 0..count {
        let started = std::time::Instant::now();
        hash_all(&hasher, &password, 1, 1).await?;
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    millis.sort_by(f64::total_cmp);
    let median = millis.get(millis.len() / 2).copied().unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let limit = cores as f64 * 1000.0 / median;
    // About as many hashes again, two callers per hashing thread as under a login flood:
    // what the threads deliver when every core hashes (memory bandwidth is shared).
    let threads = params.concurrency.max(1);
    let callers = threads * 2;
    let each = count.div_ceil(callers as u32);
    let started = std::time::Instant::now();
    hash_all(&hasher, &password, callers, each).await?;
    let parallel = f64::from(each) * callers as f64 / started.elapsed().as_secs_f64();
    println!(
        "argon2id m={} KiB t={} p={}: {threads} hashing threads deliver {parallel:.1} hashes/s \
         ({:.0}% of the limit)",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        100.0 * parallel / limit,
    );
    println!(
        "argon2id m={} KiB t={} p={}: median {median:.2} ms over {} hashes; \
         {cores} cores -> at most {limit:.1} logins/s",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        millis.len(),
    );
    Ok(())
}

/// Runs `tasks` concurrent loops of `each` hashes and waits for all of them.
async fn hash_all(
    hasher: &PasswordHasher,
    password: &Password,
    tasks: usize,
    each: u32,
) -> anyhow::Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (hasher, password) = (hasher.clone(), password.clone());
        set.spawn(async move {
            for _ in 0..each {
                hasher.hash(&password).await?;
            }
            Ok::<(), AuthError>(())
        });
    }
    while let Some(done) = set.join_next().await {
        done.context("a hashing task failed")?
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn new_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("LATCHKEY_NEW_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password: set LATCHKEY_NEW_PASSWORD or write it on standard input");
    }
    Ok(password)
}

#[derive(Debug, Subcommand)]
enum AppCommand {
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

async fn app_command(command: AppCommand, settings: &Settings) -> anyhow::Result<()> {
    use crate::auth::apps::{self, Origin};
    let joined = |origins: &[Origin]| {
        origins
            .iter()
            .map(Origin::as_str)
            .collect::<Vec<_>>()
            .join(",")
    };
    let store = Store::connect(&settings.database_url).await?;
    if settings.auto_migrate {
        store.migrate().await?;
    }
    match command {
        AppCommand::Add {
            name,
            origins,
            require_origin,
        } => {
            let created =
                apps::create(&store, &name, &origins, require_origin, SystemClock.now()).await?;
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
            let apps = apps::list(&store).await?;
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
            apps::delete(&store, &name).await?;
            println!("deleted app {name}; running servers refuse its key within 60 s");
        }
    }
    Ok(())
}
