//! Login sessions: logging in, refresh-token rotation with reuse detection, logging out,
//! a user's list of sessions, the token delivery mode each session keeps, and step-up:
//! how recently a session fully authenticated, for operations that need it recent.

pub mod issued;
pub mod ledger;
pub mod listing;
pub mod login;
pub mod logout;
pub mod reauthenticate;
pub mod refresh;
pub mod refresh_token;
pub mod step_up;
pub mod token_mode;
