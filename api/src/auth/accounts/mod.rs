//! Accounts: who can log in. The public view of an account ([`account::Account`]), the
//! identifiers it is found by, the directory of account rows, sign-up and the operators'
//! changes (roles, deletion, the configured admin).

pub mod account;
pub mod administration;
pub mod directory;
pub mod identifiers;
pub mod registration;
