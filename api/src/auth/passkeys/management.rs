//! An account's passkeys: listing, renaming, deleting.

use uuid::Uuid;

use super::registration::parse_name;
use super::stored::PasskeyView;
use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::auth::principal::Principal;
use crate::auth::sessions::step_up::StepUp;
use crate::store::passkeys::Deleted;
use crate::store::users::UserRow;

/// Whether the account has a password; one made by a passwordless sign-up has none
/// (an empty hash, which no password matches).
pub(crate) fn has_password(account: &UserRow) -> bool {
    !account.password_hash.expose().is_empty()
}

impl Authenticator {
    /// The caller's passkeys, oldest first.
    pub async fn passkeys(&self, who: &Principal) -> Result<Vec<PasskeyView>, AuthError> {
        Ok(self
            .passkeys
            .rows
            .list_for(who.user_id)
            .await?
            .into_iter()
            .map(PasskeyView::from)
            .collect())
    }

    /// Renames one of the caller's passkeys; `false` for an id that is unknown or not
    /// theirs (the same answer for both).
    pub async fn rename_passkey(
        &self,
        who: &Principal,
        id: Uuid,
        name: &str,
    ) -> Result<bool, AuthError> {
        let name = parse_name(name)?;
        Ok(self.passkeys.rows.rename(who.user_id, id, &name).await?)
    }

    /// Deletes one of the caller's passkeys (recent authentication needed, as for every
    /// credential change); `false` for an id that is unknown or not theirs. Refused
    /// (`BadInput`) for the last passkey of an account without a password: it would leave
    /// no way to log in.
    pub async fn delete_passkey(
        &self,
        who: &Principal,
        id: Uuid,
        step_up: StepUp,
    ) -> Result<bool, AuthError> {
        self.require_recent_authentication(who, step_up).await?;
        let account = self.accounts.existing(who.user_id).await?;
        let keep_one = !has_password(&account);
        match self.passkeys.rows.delete(who.user_id, id, keep_one).await? {
            Deleted::Deleted => {
                tracing::info!(user_id = %who.user_id, passkey_id = %id, "passkey deleted");
                Ok(true)
            }
            Deleted::NotFound => Ok(false),
            Deleted::LastWayIn => Err(AuthError::bad_input(
                "id",
                "is the account's last passkey and the account has no password: \
                 register another passkey first",
            )),
        }
    }
}
