//! GraphQL input and output types. Built from domain values with `From`; no entity
//! (and so no hash) ever reaches them.

mod auth_event;
mod auth_header;
mod auth_payload;
mod auth_policy;
mod enums;
mod inputs;
mod passkey;
mod scalars;
mod secret;
mod session;
mod session_event;
mod totp;
mod user;

pub use auth_event::{AuthEventConnection, AuthEventFilter};
pub use auth_header::{AuthHeader, NewAuthHeader};
pub use auth_payload::{AuthPayload, Credentials};
pub use auth_policy::AuthPolicy;
pub use enums::{Role, TokenMode};
pub use inputs::{ChangePasswordInput, LoginInput, PasskeySignupInput, RegisterInput};
pub use passkey::Passkey;
pub use scalars::DateTime;
pub use secret::Secret;
pub use session::Session;
pub use session_event::SessionEvent;
pub use totp::TotpEnrollment;
pub use user::User;
