//! A passkey as the second step of a password login, in place of a one-time password.
//!
//! The client starts the ceremony with `startPasskeyLogin(username)` (so it is bound to
//! the account), and sends the assertion as `login(input: {..., passkey})`. It counts as
//! the second factor whether TOTP is on or not; an assertion that does not verify is
//! refused like a wrong code, and counts toward the lock.

use super::login::parse_assertion;
use super::stored::credential_key;
use crate::auth::authenticator::Authenticator;
use crate::auth::error::AuthError;
use crate::store::users::UserRow;

impl Authenticator {
    /// Checks `response` as an assertion by one of `account`'s passkeys, from a login
    /// ceremony started for that account.
    pub(crate) async fn passkey_second_factor(
        &self,
        account: &UserRow,
        response: serde_json::Value,
    ) -> Result<(), AuthError> {
        let credential = parse_assertion(response)?;
        let row = self
            .passkeys
            .rows
            .find_by_credential_id(&credential_key(&credential.raw_id))
            .await?
            .filter(|row| row.account_id == account.id);
        self.verify_assertion(&credential, row, Some(account.id))
            .await
            .map(|_| ())
    }
}
