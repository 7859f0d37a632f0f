//! The Latchkey server library.
//!
//! Data flows one way: [`http`] (routes, request-level rules, credential extraction) ->
//! [`graphql`] (schema, resolvers, error mapping) -> [`auth`] (the domain: passwords,
//! tokens, sessions; no HTTP or GraphQL types) -> [`store`] (the only code that talks
//! to the database).

pub mod auth;
pub mod cli;
pub mod config;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod notify;
pub mod series;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod webhooks;

#[cfg(test)]
mod secrets_in_debug;
