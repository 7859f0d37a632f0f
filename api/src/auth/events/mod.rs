//! The security event log (issue 18): what happened to an account, written in the same
//! transaction as the change it records, then announced in-process on the [`EventBus`].
//!
//! - [`kind`]: the kinds of event, their names in the log and the API.
//! - [`event`]: an event about to be written ([`NewAuthEvent`]) and a written one
//!   ([`AuthEvent`], with its id, which orders the log).
//! - [`bus`]: the in-process broadcast every written event is published on after commit.
//! - [`log`]: reading the log (an account's own, or everyone's for admins) and pruning it.
//! - [`notice`]: what the `sessionEvents` subscription tells an account's open tabs,
//!   mapped from the log's kinds; [`session_feed`]: one subscriber's feed of them.
//!
//! Events are plain values shared with `crate::store::auth_events`, which writes them
//! inside the transactions of the other tables' changes: the store takes the domain's
//! value as it is rather than a copy of it.
//!
//! What never goes in an event: passwords, tokens (access, refresh, personal, reset,
//! verification), their hashes, TOTP secrets, codes and recovery codes, and the identifier
//! typed at a failed login (people type passwords into the username field).

pub mod bus;
pub mod event;
pub mod kind;
pub mod log;
pub mod notice;
mod reading;
pub mod session_feed;

pub use bus::EventBus;
pub use event::{AuthEvent, NewAuthEvent};
pub use kind::AuthEventKind;
