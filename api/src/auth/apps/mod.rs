//! Project API keys: apps, the browser origins each may call from, the rule every
//! `POST /graphql` must pass, and the in-memory registry that checks a key without a
//! database round trip.

pub mod app;
pub mod management;
pub mod origin;
pub mod registry;
