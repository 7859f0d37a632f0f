//! The kinds of mail the server sends.

/// What a mail is for; stored as [`MailKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A link and code that prove the account's address.
    VerifyEmail,
    /// A link that sets a new password.
    PasswordReset,
    /// Notice: the password was changed (or reset).
    PasswordChanged,
    /// Notice: TOTP was turned on.
    TotpEnabled,
    /// Notice: TOTP was turned off.
    TotpDisabled,
    /// Notice: a personal token was created.
    PersonalTokenCreated,
    /// Notice: a login from a browser without the known-device cookie.
    NewDevice,
    /// A link, to the new address, that confirms an email change.
    EmailChange,
    /// Notice, to the old address: a change of the account's address was asked for.
    EmailChangeRequested,
    /// Sent instead of [`MailKind::EmailChange`] when the new address belongs to another
    /// account already: nothing changes, and the asker is not told.
    EmailChangeTaken,
}

impl MailKind {
    pub const ALL: [MailKind; 10] = [
        MailKind::VerifyEmail,
        MailKind::PasswordReset,
        MailKind::PasswordChanged,
        MailKind::TotpEnabled,
        MailKind::TotpDisabled,
        MailKind::PersonalTokenCreated,
        MailKind::NewDevice,
        MailKind::EmailChange,
        MailKind::EmailChangeRequested,
        MailKind::EmailChangeTaken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::PasswordChanged => "password_changed",
            MailKind::TotpEnabled => "totp_enabled",
            MailKind::TotpDisabled => "totp_disabled",
            MailKind::PersonalTokenCreated => "personal_token_created",
            MailKind::NewDevice => "new_device",
            MailKind::EmailChange => "email_change",
            MailKind::EmailChangeRequested => "email_change_requested",
            MailKind::EmailChangeTaken => "email_change_taken",
        }
    }

    pub fn from_stored(value: &str) -> Option<MailKind> {
        MailKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }

    /// The purpose of the token this kind of mail carries, if it carries one.
    pub fn token_purpose(self) -> Option<&'static str> {
        match self {
            MailKind::VerifyEmail => Some(tokens::VERIFY_PURPOSE),
            MailKind::PasswordReset => Some(tokens::RESET_PURPOSE),
            MailKind::EmailChange => Some(tokens::EMAIL_CHANGE_PURPOSE),
            _ => None,
        }
    }
}

use super::tokens;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::from_stored(kind.as_str()), Some(kind));
        }
        assert_eq!(MailKind::from_stored("nonsense"), None);
    }
}
