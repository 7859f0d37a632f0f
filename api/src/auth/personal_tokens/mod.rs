//! Personal tokens (the contract's "auth headers"): long-lived `lk_` bearer tokens a user
//! makes for scripts and servers. One acts as its owner wherever an access token works in
//! the `Authorization` header or the `access_token` query parameter (never from a cookie:
//! the GraphQL layer refuses that).

pub mod ledger;
pub mod management;
mod token_name;
mod use_recorder;
