//! Throttling: account locks after consecutive failed logins (kept in the database, so
//! they hold across instances) and per-address budgets (in memory, per instance), and the
//! gate that every credential check passes through.

pub mod account_lock;
pub mod address_budget;
pub mod gate;
mod wait;
