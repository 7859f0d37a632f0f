//! The kinds of security event. The name (`as_str`) is what the log stores and the API
//! shows; it never changes once released, so old rows keep their meaning.

/// What happened. The detail each kind carries is listed in docs/api.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthEventKind {
    /// An account was created (sign-up, or an operator's `user add`).
    AccountCreated,
    /// An account was deleted by an operator.
    AccountDeleted,
    /// A login opened a session.
    LoginSucceeded,
    /// A credential check was refused: a wrong password, one-time password or passkey, at
    /// login or wherever a password proves the owner (`detail.during` says where).
    LoginFailed,
    /// A failed login locked the account for a while.
    LoginLocked,
    /// A rotated refresh token came back after its grace window; its session is revoked.
    RefreshReused,
    /// `logout` ended the session it was called for (or, with `allSessions`, all of them).
    LoggedOut,
    /// A session ended before its time; `detail.reason` says why. Every such end has one.
    SessionRevoked,
    /// The password was changed by its owner.
    PasswordChanged,
    /// The password was set through a reset link.
    PasswordReset,
    /// The account's email address was verified.
    EmailVerified,
    /// The account's email address was changed (confirmed from the new address).
    EmailChanged,
    /// TOTP was turned on (confirmed).
    TotpEnabled,
    /// TOTP was turned off.
    TotpDisabled,
    /// A personal token was created.
    PersonalTokenCreated,
    /// A personal token was deleted.
    PersonalTokenDeleted,
    /// A project API key (app) was created by an operator.
    AppKeyCreated,
    /// A project API key (app) was deleted by an operator.
    AppKeyRevoked,
    /// An account's role was changed by an operator.
    RoleChanged,
}

impl AuthEventKind {
    pub const ALL: [AuthEventKind; 19] = [
        AuthEventKind::AccountCreated,
        AuthEventKind::AccountDeleted,
        AuthEventKind::LoginSucceeded,
        AuthEventKind::LoginFailed,
        AuthEventKind::LoginLocked,
        AuthEventKind::RefreshReused,
        AuthEventKind::LoggedOut,
        AuthEventKind::SessionRevoked,
        AuthEventKind::PasswordChanged,
        AuthEventKind::PasswordReset,
        AuthEventKind::EmailVerified,
        AuthEventKind::EmailChanged,
        AuthEventKind::TotpEnabled,
        AuthEventKind::TotpDisabled,
        AuthEventKind::PersonalTokenCreated,
        AuthEventKind::PersonalTokenDeleted,
        AuthEventKind::AppKeyCreated,
        AuthEventKind::AppKeyRevoked,
        AuthEventKind::RoleChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthEventKind::AccountCreated => "ACCOUNT_CREATED",
            AuthEventKind::AccountDeleted => "ACCOUNT_DELETED",
            AuthEventKind::LoginSucceeded => "LOGIN_SUCCEEDED",
            AuthEventKind::LoginFailed => "LOGIN_FAILED",
            AuthEventKind::LoginLocked => "LOGIN_LOCKED",
            AuthEventKind::RefreshReused => "REFRESH_REUSED",
            AuthEventKind::LoggedOut => "LOGGED_OUT",
            AuthEventKind::SessionRevoked => "SESSION_REVOKED",
            AuthEventKind::PasswordChanged => "PASSWORD_CHANGED",
            AuthEventKind::PasswordReset => "PASSWORD_RESET",
            AuthEventKind::EmailVerified => "EMAIL_VERIFIED",
            AuthEventKind::EmailChanged => "EMAIL_CHANGED",
            AuthEventKind::TotpEnabled => "TOTP_ENABLED",
            AuthEventKind::TotpDisabled => "TOTP_DISABLED",
            AuthEventKind::PersonalTokenCreated => "PERSONAL_TOKEN_CREATED",
            AuthEventKind::PersonalTokenDeleted => "PERSONAL_TOKEN_DELETED",
            AuthEventKind::AppKeyCreated => "APP_KEY_CREATED",
            AuthEventKind::AppKeyRevoked => "APP_KEY_REVOKED",
            AuthEventKind::RoleChanged => "ROLE_CHANGED",
        }
    }

    /// Whether an event of this kind may end a session or personal token, or change what
    /// is shown of the account: then what is remembered of that account's credentials
    /// (`auth::credential_cache`) must be forgotten. Kinds that only add something (a
    /// login, a token) or concern no account's credentials say no; a kind added later
    /// says yes until someone decides otherwise.
    pub fn changes_credentials(self) -> bool {
        !matches!(
            self,
            AuthEventKind::AccountCreated
                | AuthEventKind::LoginSucceeded
                | AuthEventKind::LoginFailed
                | AuthEventKind::LoginLocked
                | AuthEventKind::PersonalTokenCreated
                | AuthEventKind::AppKeyCreated
                | AuthEventKind::AppKeyRevoked
        )
    }

    /// The kind a stored name stands for; `None` for a name this version does not know
    /// (a row written by a newer version).
    pub fn parse(name: &str) -> Option<AuthEventKind> {
        AuthEventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for AuthEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::AuthEventKind;

    #[test]
    fn every_kind_reads_back_from_its_name_and_names_are_distinct() {
        let mut names = std::collections::HashSet::new();
        for kind in AuthEventKind::ALL {
            assert_eq!(AuthEventKind::parse(kind.as_str()), Some(kind));
            assert!(names.insert(kind.as_str()), "{kind} twice");
            assert!(
                kind.as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
            );
        }
        assert_eq!(AuthEventKind::parse("login_succeeded"), None);
    }
}
