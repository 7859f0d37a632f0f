//! Outbound webhook delivery: the worker that POSTs each endpoint's events, signed per
//! the Standard Webhooks specification, with retries and backoff. Endpoints themselves
//! (URLs, filters, secrets) are `crate::auth::webhooks`; the events are `auth_events`,
//! which is the outbox (see `entity::webhook_endpoint`).

pub mod client;
pub mod payload;
pub mod signing;
pub mod worker;
