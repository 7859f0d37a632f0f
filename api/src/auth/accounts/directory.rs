//! The account rows: finding an account by id or by how a login names it, creating and
//! deleting one, its role, and the public view of a row.

use uuid::Uuid;

use super::account::{Account, Role};
use super::identifiers::{LoginId, Username};
use crate::auth::error::AuthError;
use crate::auth::passwords::expiry::PasswordAge;
use crate::store::auth_events::Journal;
use crate::store::outbox::NewMail;
use crate::store::users::{NewUser, UserRow, Users};

pub struct AccountDirectory {
    users: Users,
    password_age: PasswordAge,
}

impl AccountDirectory {
    pub fn new(users: Users, password_age: PasswordAge) -> AccountDirectory {
        AccountDirectory {
            users,
            password_age,
        }
    }

    pub async fn find(&self, id: Uuid) -> Result<Option<UserRow>, AuthError> {
        Ok(self.users.find(id).await?)
    }

    /// The account of an authenticated caller, which may have been deleted meanwhile.
    pub async fn existing(&self, id: Uuid) -> Result<UserRow, AuthError> {
        self.find(id)
            .await?
            .ok_or(AuthError::Unauthenticated("account no longer exists"))
    }

    /// The account a login names, by username (without regard to case) or email.
    pub async fn find_by_login(&self, id: &LoginId) -> Result<Option<UserRow>, AuthError> {
        Ok(match id {
            LoginId::Username(key) => self.users.find_by_username_key(key).await?,
            LoginId::Email(email) => self.users.find_by_email(email).await?,
        })
    }

    pub async fn find_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<UserRow>, AuthError> {
        Ok(self.users.find_by_username_key(&username.key()).await?)
    }

    /// Every account, oldest first.
    pub async fn all(&self) -> Result<Vec<UserRow>, AuthError> {
        Ok(self.users.all().await?)
    }

    /// Inserts a new account; a taken username or email is `Conflict`.
    pub async fn insert(
        &self,
        new: NewUser,
        mail: Option<NewMail>,
        journal: &mut Journal,
    ) -> Result<UserRow, AuthError> {
        Ok(self.users.insert(new, mail, journal).await?)
    }

    /// `false` when the account no longer exists.
    pub async fn set_role(
        &self,
        id: Uuid,
        role: Role,
        journal: &mut Journal,
    ) -> Result<bool, AuthError> {
        Ok(self.users.set_role(id, role.as_str(), journal).await?)
    }

    /// Deletes the account and, by cascade, everything it owns; `false` when it was gone.
    pub async fn delete(&self, id: Uuid, journal: &mut Journal) -> Result<bool, AuthError> {
        Ok(self.users.delete(id, journal).await?)
    }

    pub async fn any_admin(&self) -> Result<bool, AuthError> {
        Ok(self.users.any_admin().await?)
    }

    /// The password age rule the accounts are viewed with.
    pub fn password_age(&self) -> PasswordAge {
        self.password_age
    }

    /// What the API may show of an account row: no password hash.
    pub fn view(&self, row: &UserRow) -> Account {
        Account {
            id: row.id,
            username: row.username.clone(),
            email: row.email.clone(),
            firstname: row.firstname.clone(),
            lastname: row.lastname.clone(),
            role: Role::from_stored(&row.role),
            created_at: row.created_at,
            password_changed_at: row.password_changed_at,
            password_expires_at: self.password_age.expires_at(row.password_changed_at),
            totp_enabled: row.totp_enabled_at.is_some(),
            email_verified: row.email.is_some() && row.email_verified_at.is_some(),
        }
    }
}
