//! Creating accounts: self-service sign-up, operators (the CLI), and the admin named in
//! the settings.

use uuid::Uuid;

use super::account::{Account, Role};
use super::identifiers::{Email, Username, parse_person_name};
use crate::auth::authenticator::Authenticator;
use crate::auth::client::ClientMeta;
use crate::auth::email::kind::MailKind;
use crate::auth::email::limits::new_mail;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::passwords::password::Password;
use crate::auth::secret::SecretString;
use crate::auth::throttle::address_budget::ThrottledAction;
use crate::store::auth_events::Journal;
use crate::store::users::NewUser;

/// Who creates an account: recorded on its `ACCOUNT_CREATED` event.
#[derive(Debug, Clone, Copy)]
enum Creator<'a> {
    /// Sign-up, from this client.
    SignUp(&'a ClientMeta),
    /// An operator (the CLI) or the settings' admin.
    Operator,
}

/// A request to create an account, as it arrived.
#[derive(Debug)]
pub struct RegisterRequest {
    pub username: String,
    pub email: Option<String>,
    pub password: SecretString,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub role: Role,
}

impl Authenticator {
    /// Self-service sign-up: refused when sign-up is off. Every attempt counts against the
    /// client address's budget: each costs a hash, and `CONFLICT` tells a name is taken,
    /// so this bounds both the load and the speed of probing for names.
    pub async fn register(
        &self,
        request: RegisterRequest,
        client: &ClientMeta,
    ) -> Result<Account, AuthError> {
        let ip = client.ip.as_deref();
        if !self.offered.signup {
            return Err(AuthError::Forbidden("sign-up is disabled"));
        }
        self.throttle
            .charge(ThrottledAction::Register, ip, self.now())?;
        let has_email = request
            .email
            .as_deref()
            .is_some_and(|e| !e.trim().is_empty());
        if self.email_required() && !has_email {
            return Err(AuthError::bad_input(
                "email",
                "is required: this server lets only verified addresses log in",
            ));
        }
        self.create_account_from(request, Creator::SignUp(client))
            .await
    }

    /// Creates an account regardless of the sign-up setting (operators, the CLI).
    pub async fn create_account(&self, request: RegisterRequest) -> Result<Account, AuthError> {
        self.create_account_from(request, Creator::Operator).await
    }

    /// Creates an account; one with an address gets the mail that verifies it, written in
    /// the same transaction.
    async fn create_account_from(
        &self,
        request: RegisterRequest,
        creator: Creator<'_>,
    ) -> Result<Account, AuthError> {
        let ip = match creator {
            Creator::SignUp(client) => client.ip.as_deref(),
            Creator::Operator => None,
        };
        let username = Username::parse(&request.username)?;
        let email = request
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Email::parse)
            .transpose()?;
        let firstname = parse_person_name("firstname", request.firstname.as_deref())?;
        let lastname = parse_person_name("lastname", request.lastname.as_deref())?;
        let password = Password::new_for(request.password, "password", &username, email.as_ref())?;
        let password_hash = self.passwords.hash(&password).await?;
        let id = Uuid::now_v7();
        // Not under the hourly limit: a new address has had no mail, and sign-up has its
        // own budget per client.
        let verification = email
            .as_ref()
            .map(|email| new_mail(MailKind::VerifyEmail, Some(id), email.as_str(), ip));
        let has_mail = verification.is_some();
        let now = self.now();
        let created = NewAuthEvent::new(AuthEventKind::AccountCreated, now)
            .user(id)
            .detail("role", request.role.as_str());
        let mut journal = Journal::of(match creator {
            Creator::SignUp(client) => created.client(client).detail("by", "signup"),
            Creator::Operator => created.detail("by", "operator"),
        });
        let row = self
            .accounts
            .insert(
                NewUser {
                    id,
                    username: username.as_str().to_owned(),
                    username_key: username.key(),
                    email: email.map(|e| e.as_str().to_owned()),
                    firstname,
                    lastname,
                    role: request.role.as_str(),
                    password_hash,
                    now,
                },
                verification,
                &mut journal,
            )
            .await?;
        self.publish(journal);
        if has_mail {
            self.mail.written();
        }
        tracing::info!(user_id = %row.id, "account created");
        Ok(self.accounts.view(&row))
    }

    /// Creates the configured admin at start, unless an admin already exists.
    pub async fn ensure_admin(
        &self,
        username: &str,
        password: &SecretString,
    ) -> anyhow::Result<()> {
        if self.accounts.any_admin().await? {
            return Ok(());
        }
        let request = RegisterRequest {
            username: username.to_owned(),
            email: None,
            password: password.clone(),
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
}
