//! Known devices (OWASP "device cookies"): a browser that has logged in to an account
//! gets an `HttpOnly` cookie naming it. A later login to that account from that browser
//! is throttled by the device's own failures, not by the account's lock, so someone who
//! locks the account from elsewhere does not lock its owner out of their own browser;
//! everyone without the cookie still meets the account's lock.
//!
//! - [`device_token`]: the cookie's value, a 256-bit secret stored only as its SHA-256.
//! - [`registry`]: recognising a device for an account, remembering a new one (bounded
//!   per account, expiring, swept).

pub mod device_token;
pub mod registry;
