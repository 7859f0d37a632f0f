//! Passwords as the account row keeps them: checking one, storing a new one, and quietly
//! upgrading a hash made with weaker parameters than configured.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::hasher::{PasswordHasher, Verification};
use super::password::Password;
use crate::auth::error::AuthError;
use crate::store::users::{AlongWithPasswordChange, UserRow, Users};

/// Checks and stores account passwords.
pub struct StoredPasswords {
    hasher: PasswordHasher,
    users: Users,
}

impl StoredPasswords {
    pub fn new(hasher: PasswordHasher, users: Users) -> StoredPasswords {
        StoredPasswords { hasher, users }
    }

    /// Whether `password` is the account's. With no account it still costs the same
    /// hashes, so timing does not tell an unknown name from a wrong password (the answer
    /// is then always `Mismatch`).
    ///
    /// A hash made before passwords were normalised (NFKC) was made from the password as
    /// typed: when the normalised form does not match and the typed one differs, the typed
    /// one is tried too, and a match asks for a rehash, which stores the normalised form.
    pub async fn check(
        &self,
        password: &Password,
        account: Option<&UserRow>,
    ) -> Result<Verification, AuthError> {
        let stored = account.map(|row| row.password_hash.expose());
        let verification = self.hasher.verify(password.expose(), stored).await?;
        match (verification, password.as_typed()) {
            (Verification::Mismatch, Some(typed)) => {
                Ok(match self.hasher.verify(typed, stored).await? {
                    Verification::Mismatch => Verification::Mismatch,
                    _ => Verification::MatchNeedsRehash,
                })
            }
            (verification, _) => Ok(verification),
        }
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        self.hasher.hash(password).await
    }

    /// Replaces the account's password hash, if it is still the one verified (a
    /// concurrent change wins otherwise: `false`), and ends every session but `keep`, and
    /// as `along` says every personal token, and writes the notice and events, all in one
    /// transaction.
    pub async fn replace(
        &self,
        row: &UserRow,
        new_hash: String,
        keep: Option<Uuid>,
        along: AlongWithPasswordChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        Ok(self
            .users
            .change_password(
                row.id,
                row.password_hash.expose(),
                new_hash,
                keep,
                along,
                now,
            )
            .await?)
    }

    /// Rehashes a right password that was stored with weaker parameters than configured.
    /// Best effort: a failed upgrade leaves the old (still valid) hash in place.
    pub async fn upgrade(&self, row: &UserRow, password: &Password) {
        let upgraded = match self.hasher.hash(password).await {
            Ok(hash) => self
                .users
                .upgrade_password_hash(row.id, row.password_hash.expose(), hash)
                .await
                .map_err(AuthError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = upgraded {
            tracing::warn!(user_id = %row.id, error = %e, "could not upgrade the password hash");
        }
    }
}
