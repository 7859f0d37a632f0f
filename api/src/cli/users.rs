//! `latchkey user add|delete|list|set-role`: accounts, for operators.

use std::io::{BufRead as _, IsTerminal as _};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;

use super::format::timestamp;
use crate::auth::AuthError;
use crate::auth::accounts::account::Role;
use crate::auth::accounts::registration::RegisterRequest;
use crate::auth::authenticator::Authenticator;
use crate::auth::clock::SystemClock;
use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Create an account. The password is read from LATCHKEY_NEW_PASSWORD, else typed at
    /// the terminal without echo (twice) when standard input is one, else from the first
    /// line of standard input; never from an argument, where it would show in `ps`.
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
pub(super) enum RoleArg {
    Admin,
    User,
}

/// Connects (migrating if configured) and starts the authenticator, as the server would.
async fn authenticator(settings: &Settings) -> anyhow::Result<Authenticator> {
    let store = Store::open(settings).await?;
    Authenticator::start(settings, store, Arc::new(SystemClock)).await
}

pub(super) async fn run(command: UserCommand, settings: &Settings) -> anyhow::Result<()> {
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
                password: password.into(),
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

/// The new account's password: `LATCHKEY_NEW_PASSWORD`, else typed at the terminal
/// (twice, without echo) when standard input is one, else the first line of standard
/// input (for scripts and tests).
fn new_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("LATCHKEY_NEW_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        return prompt_password();
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

fn prompt_password() -> anyhow::Result<String> {
    let password =
        rpassword::prompt_password("Password: ").context("reading the password at the terminal")?;
    if password.is_empty() {
        anyhow::bail!("no password given");
    }
    let again = rpassword::prompt_password("Password again: ")
        .context("reading the password at the terminal")?;
    // Constant time like every other comparison of secrets, though only the typist is timed.
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        again.as_bytes(),
        password.as_bytes(),
    )) {
        anyhow::bail!("the two passwords differ");
    }
    Ok(password)
}
