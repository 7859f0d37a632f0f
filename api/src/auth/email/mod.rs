//! Accounts by email: proving an address, resetting a forgotten password, and the security
//! notices an account's verified address receives.
//!
//! Nothing here sends mail. A flow writes a request to the outbox (in the transaction of
//! the change that calls for it, where there is one) and returns; the delivery worker
//! (`crate::mail`) reads the account, mints the token, renders and sends. So a request
//! for an address with no account costs exactly what one for a real account costs, and
//! its answer is the same.

pub mod change;
pub mod kind;
pub mod limits;
pub mod notices;
pub mod reset;
pub mod tokens;
pub mod verification;
