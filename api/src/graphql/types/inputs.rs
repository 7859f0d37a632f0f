use async_graphql::InputObject;

use super::{Secret, TokenMode};

/// A new account.
#[derive(InputObject, Debug)]
pub struct RegisterInput {
    /// 3 to 64 ASCII letters, digits, `.`, `_` or `-`; unique without regard to case.
    pub username: String,
    /// Optional email address; stored lower-cased, unique.
    pub email: Option<String>,
    /// 8 to 256 characters, not the username or email.
    #[graphql(secret)]
    pub password: Secret,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
}

/// A password change. A logged-in user sends the access token and may leave out
/// `username` and `email`; a user whose password has expired (and so cannot log in) names
/// the account with exactly one of them.
#[derive(InputObject, Debug)]
pub struct ChangePasswordInput {
    /// The account's username; give this or `email`, or neither with an access token.
    pub username: Option<String>,
    /// The account's email; give this or `username`, or neither with an access token.
    pub email: Option<String>,
    /// The password in use now (also when it has expired).
    #[graphql(secret)]
    pub current_password: Secret,
    /// The new password: 8 to 256 characters, not the username or email, not a common
    /// password, and not the current one.
    #[graphql(secret)]
    pub new_password: Secret,
    /// The current one-time password, when the account has TOTP enabled.
    #[graphql(secret)]
    pub otp: Option<Secret>,
    /// Also delete every personal token (auth header) of the account. On by default: a
    /// changed password usually means a suspected compromise, and a token made by an
    /// intruder would outlive it.
    #[graphql(default_with = "Some(true)")]
    pub end_personal_tokens: Option<bool>,
}

/// Credentials for `login`: exactly one of `username` or `email`, and the password.
#[derive(InputObject, Debug)]
pub struct LoginInput {
    /// The username (any letter case). Give this or `email`, not both.
    pub username: Option<String>,
    /// The email address (any letter case). Give this or `username`, not both.
    pub email: Option<String>,
    /// The password.
    #[graphql(secret)]
    pub password: Secret,
    /// The current one-time password, when the account has TOTP enabled.
    #[graphql(secret)]
    pub otp: Option<Secret>,
    /// In place of `otp`: a passkey assertion, the `toJSON()` of the credential
    /// `navigator.credentials.get` returned for options from
    /// `startPasskeyLogin(username)` for this account. A refused one is `UNAUTHENTICATED`
    /// and counts toward the lock like a wrong code.
    pub passkey: Option<async_graphql::Json<serde_json::Value>>,
    /// How to deliver the tokens.
    #[graphql(default_with = "Some(TokenMode::Json)")]
    pub mode: Option<TokenMode>,
}

/// A new account without a password (`startPasskeySignup`).
#[derive(InputObject, Debug)]
pub struct PasskeySignupInput {
    /// 3 to 64 ASCII letters, digits, `.`, `_` or `-`; unique without regard to case.
    pub username: String,
    /// Optional email address; stored lower-cased, unique.
    pub email: Option<String>,
    /// Given name.
    pub firstname: Option<String>,
    /// Family name.
    pub lastname: Option<String>,
    /// A name for the passkey (1 to 64 characters); "Passkey" when left out.
    pub passkey_name: Option<String>,
}
