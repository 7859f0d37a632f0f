//! Looking accounts up and the operators' changes to them: `user(username:)`, and the
//! CLI's list, role and delete commands.

use super::account::{Account, Role};
use super::identifiers::{LoginId, Username};
use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::events::{AuthEventKind, NewAuthEvent};
use crate::auth::principal::Principal;
use crate::store::auth_events::Journal;
use crate::store::users::UserRow;

/// Operators name accounts that may not exist: one answer for a bad and an unknown name.
const NO_SUCH_ACCOUNT: AuthError = AuthError::Forbidden("no account has that username");

impl Authenticator {
    /// An account by username, for `user(username:)`: yourself, or anyone if you are an
    /// admin. Anyone else is refused whether or not the name exists, so the answer does
    /// not tell which names are taken.
    pub async fn user_by_username(
        &self,
        who: &Principal,
        username: &str,
    ) -> Result<Option<Account>, AuthError> {
        let me = self.accounts.existing(who.user_id).await?;
        let key = username.trim().to_ascii_lowercase();
        if me.username_key == key {
            return Ok(Some(self.accounts.view(&me)));
        }
        if Role::from_stored(&me.role) != Role::Admin {
            return Err(AuthError::Forbidden(
                "only an admin may look up other users",
            ));
        }
        let row = self.accounts.find_by_login(&LoginId::Username(key)).await?;
        Ok(row.map(|row| self.accounts.view(&row)))
    }

    /// Every account, oldest first (operators, the CLI).
    pub async fn all_accounts(&self) -> Result<Vec<Account>, AuthError> {
        let rows = self.accounts.all().await?;
        Ok(rows.iter().map(|row| self.accounts.view(row)).collect())
    }

    /// Sets an account's role (operators, the CLI).
    pub async fn set_role(&self, username: &str, role: Role) -> Result<Account, AuthError> {
        let row = self.named_account(username).await?;
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::RoleChanged, self.now())
                .user(row.id)
                .detail("from", Role::from_stored(&row.role).as_str())
                .detail("to", role.as_str())
                .detail("by", "operator"),
        );
        if !self.accounts.set_role(row.id, role, &mut journal).await? {
            return Err(NO_SUCH_ACCOUNT);
        }
        self.publish(journal);
        tracing::info!(user_id = %row.id, role = role.as_str(), "role set");
        let mut account = self.accounts.view(&row);
        account.role = role;
        Ok(account)
    }

    /// Deletes the account with this username and everything it owns (operators, the CLI):
    /// its sessions and personal tokens stop working at once.
    pub async fn delete_account(&self, username: &str) -> Result<Account, AuthError> {
        let row = self.named_account(username).await?;
        let mut journal = Journal::of(
            NewAuthEvent::new(AuthEventKind::AccountDeleted, self.now())
                .user(row.id)
                .detail("by", "operator"),
        );
        if !self.accounts.delete(row.id, &mut journal).await? {
            return Err(NO_SUCH_ACCOUNT);
        }
        self.publish(journal);
        tracing::info!(user_id = %row.id, "account deleted");
        Ok(self.accounts.view(&row))
    }

    async fn named_account(&self, username: &str) -> Result<UserRow, AuthError> {
        let username = Username::parse(username).map_err(|_| NO_SUCH_ACCOUNT)?;
        self.accounts
            .find_by_username(&username)
            .await?
            .ok_or(NO_SUCH_ACCOUNT)
    }
}
