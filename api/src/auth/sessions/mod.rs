//! Login sessions: logging in, refresh-token rotation with reuse detection, logging out,
//! a user's list of sessions, and the token delivery mode each session keeps.

pub mod issued;
pub mod ledger;
pub mod listing;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod refresh_token;
pub mod token_mode;
