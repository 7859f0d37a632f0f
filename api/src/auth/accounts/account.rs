//! The public view of an account: what the API may show. No password hash in here.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Unknown stored values read as the least privileged role.
    pub fn from_stored(value: &str) -> Role {
        if value == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    /// When the password stops being accepted, if passwords age.
    pub password_expires_at: Option<DateTime<Utc>>,
    pub totp_enabled: bool,
    /// Whether the current email address was proved to reach the owner.
    pub email_verified: bool,
}
