//! Accounts: sign-up, creation by operators, deletion, and the domain view of a user row.

use uuid::Uuid;

use super::AuthError;
use super::account::{Account, Role};
use super::principal::Principal;
use super::service::Authenticator;
use super::values::{Email, Password, Username, parse_name};
use crate::store::users::{NewUser, UserRow};

/// A request to create an account, as it arrived.
#[derive(Debug)]
pub struct RegisterRequest {
    pub username: String,
    pub email: Option<String>,
    pub password: String,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub role: Role,
}

impl Authenticator {
    /// An account by username, for `user(username:)`: yourself, or anyone if you are an
    /// admin. Anyone else is refused whether or not the name exists, so the answer does
    /// not tell which names are taken.
    pub async fn user_by_username(
        &self,
        who: &Principal,
        username: &str,
    ) -> Result<Option<Account>, AuthError> {
        let me = self
            .store
            .users
            .find(who.user_id)
            .await?
            .ok_or(AuthError::Unauthenticated("account no longer exists"))?;
        let key = username.trim().to_ascii_lowercase();
        if me.username_key == key {
            return Ok(Some(self.account_of(&me)));
        }
        if Role::from_stored(&me.role) != Role::Admin {
            return Err(AuthError::Forbidden(
                "only an admin may look up other users",
            ));
        }
        let row = self.store.users.find_by_username_key(&key).await?;
        Ok(row.map(|row| self.account_of(&row)))
    }

    /// Every account, oldest first (operators, the CLI).
    pub async fn all_accounts(&self) -> Result<Vec<Account>, AuthError> {
        let rows = self.store.users.all().await?;
        Ok(rows.iter().map(|row| self.account_of(row)).collect())
    }

    /// Sets an account's role (operators, the CLI).
    pub async fn set_role(&self, username: &str, role: Role) -> Result<Account, AuthError> {
        const NO_SUCH: AuthError = AuthError::Forbidden("no account has that username");
        let username = Username::parse(username).map_err(|_| NO_SUCH)?;
        let row = self
            .store
            .users
            .find_by_username_key(&username.key())
            .await?
            .ok_or(NO_SUCH)?;
        if !self.store.users.set_role(row.id, role.as_str()).await? {
            return Err(NO_SUCH);
        }
        tracing::info!(user_id = %row.id, role = role.as_str(), "role set");
        let mut account = self.account_of(&row);
        account.role = role;
        Ok(account)
    }

    /// Self-service sign-up: refused when sign-up is off. Every attempt counts against the
    /// client address's budget: each costs a hash, and `CONFLICT` tells a name is taken,
    /// so this bounds both the load and the speed of probing for names.
    pub async fn register(
        &self,
        request: RegisterRequest,
        ip: Option<&str>,
    ) -> Result<Account, AuthError> {
        if !self.policy.signup {
            return Err(AuthError::Forbidden("sign-up is disabled"));
        }
        self.throttle_ip(super::throttle::ThrottledAction::Register, ip)?;
        self.create_account(request).await
    }

    /// Creates an account regardless of the sign-up setting (operators, the CLI).
    pub async fn create_account(&self, request: RegisterRequest) -> Result<Account, AuthError> {
        let username = Username::parse(&request.username)?;
        let email = request
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Email::parse)
            .transpose()?;
        let firstname = parse_name("firstname", request.firstname.as_deref())?;
        let lastname = parse_name("lastname", request.lastname.as_deref())?;
        let password = Password::new_for(request.password, "password", &username, email.as_ref())?;
        let password_hash = self.hasher.hash(&password).await?;
        let row = self
            .store
            .users
            .insert(NewUser {
                id: Uuid::now_v7(),
                username: username.as_str().to_owned(),
                username_key: username.key(),
                email: email.map(|e| e.as_str().to_owned()),
                firstname,
                lastname,
                role: request.role.as_str(),
                password_hash,
                now: self.now(),
            })
            .await?;
        tracing::info!(user_id = %row.id, "account created");
        Ok(self.account_of(&row))
    }

    /// Deletes the account with this username and everything it owns (operators, the CLI):
    /// its sessions and personal tokens stop working at once.
    pub async fn delete_account(&self, username: &str) -> Result<Account, AuthError> {
        const NO_SUCH: AuthError = AuthError::Forbidden("no account has that username");
        let username = Username::parse(username).map_err(|_| NO_SUCH)?;
        let row = self
            .store
            .users
            .find_by_username_key(&username.key())
            .await?
            .ok_or(NO_SUCH)?;
        if !self.store.users.delete(row.id).await? {
            return Err(NO_SUCH);
        }
        tracing::info!(user_id = %row.id, "account deleted");
        Ok(self.account_of(&row))
    }

    /// Creates the configured admin at start, unless an admin already exists.
    pub async fn ensure_admin(&self, username: &str, password: &str) -> anyhow::Result<()> {
        if self
            .store
            .users
            .any_admin()
            .await
            .map_err(AuthError::from)?
        {
            return Ok(());
        }
        let request = RegisterRequest {
            username: username.to_owned(),
            email: None,
            password: password.to_owned(),
            firstname: None,
            lastname: None,
            role: Role::Admin,
        };
        match self.create_account(request).await {
            Ok(account) => {
                tracing::info!(user_id = %account.id, "created the configured admin");
                Ok(())
            }
            Err(AuthError::BadInput { field, reason }) => {
                anyhow::bail!("admin_{field}: {reason}")
            }
            Err(AuthError::Conflict(_)) => {
                anyhow::bail!(
                    "admin_username: an account named {username} exists but is not an admin"
                )
            }
            Err(e) => Err(anyhow::anyhow!(e).context("creating the configured admin")),
        }
    }

    pub(super) fn account_of(&self, row: &UserRow) -> Account {
        let password_expires_at = self
            .policy
            .password_max_age
            .and_then(|age| chrono::Duration::from_std(age).ok())
            .and_then(|age| row.password_changed_at.checked_add_signed(age));
        Account {
            id: row.id,
            username: row.username.clone(),
            email: row.email.clone(),
            firstname: row.firstname.clone(),
            lastname: row.lastname.clone(),
            role: Role::from_stored(&row.role),
            created_at: row.created_at,
            password_changed_at: row.password_changed_at,
            password_expires_at,
            totp_enabled: row.totp_enabled_at.is_some(),
        }
    }
}
