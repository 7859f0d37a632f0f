//! Mail delivery: the transport ([`transport`]), the templates ([`templates`]) and the
//! background worker ([`worker`]) that turns outbox rows into sent mail.
//!
//! The flows that call for mail live in `auth::email` and only write outbox rows; this
//! module reads them, mints the tokens they carry, renders and sends, with retries.

pub mod templates;
pub mod transport;
pub mod worker;
