//! Passwords: the value a user types and the rules a new one must pass, the list of
//! common passwords, argon2id hashing on threads of its own, checking and storing a
//! password against the account row, changing it, and when it expires.

mod argon2_memory;
pub mod change;
pub mod common;
pub mod expiry;
pub mod hasher;
mod hashing_threads;
pub mod password;
pub mod stored;
