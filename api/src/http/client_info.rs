//! What a session records about the client that opened it.

use actix_web::http::header;
use actix_web::{HttpMessage as _, HttpRequest};

use super::request_identity::ClientAddress;
use crate::auth::client::ClientMeta;

/// The client's address and `User-Agent`. The address is the one `request_identity`
/// settled: the TCP peer, or behind a trusted proxy the address it forwarded for.
pub fn client_meta(request: &HttpRequest) -> ClientMeta {
    let address = request
        .extensions()
        .get::<ClientAddress>()
        .map(|a| a.0)
        .or_else(|| request.peer_addr().map(|a| a.ip().to_canonical()));
    ClientMeta {
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: address.map(|ip| ip.to_string()),
    }
}
