//! Black-box tests: a real Latchkey server on a random port, real HTTP, a real database
//! (SQLite in a temporary directory, or PostgreSQL when `TEST_DATABASE_URL` is set).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod helpers;

mod abuse_limits;
mod access_tokens;
mod api_keys;
mod attempt_reservation;
mod auth_events;
mod auth_headers;
mod browser;
mod change_password;
mod cli;
mod client_addresses;
mod cors;
mod document_limits;
mod email_change;
mod email_verification;
mod forge;
mod graphiql;
mod graphql_errors;
mod graphql_over_http;
mod guard;
mod hostile_documents;
mod http_rules;
mod instances;
mod introspection_queries;
mod keys;
mod known_devices;
mod login;
mod logout;
mod mail_delivery;
mod me;
mod metrics;
mod migrations;
mod operators;
mod outage;
mod passkeys;
mod password_policy;
mod password_prompt;
mod password_reset;
mod private_files;
mod processes;
mod races;
mod recent_authentication;
mod refresh;
mod register;
mod request_ids;
mod restart;
mod roles;
mod schema_file;
mod sealed_secrets;
mod secret_files;
mod security_notices;
mod session_cache;
mod session_events;
mod sessions;
mod shutdown;
mod smtp_sink;
mod software_passkey;
mod throttling;
mod token_modes;
mod totp;
mod unicode;
mod webhook_receiver;
mod webhooks;
mod ws_client;
