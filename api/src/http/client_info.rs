//! What a session records about the client that opened it.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::auth::client::ClientMeta;

/// The peer address and `User-Agent`. The address is the TCP peer: behind a reverse proxy
/// that is the proxy (forwarded headers are not trusted, since any client can send them).
pub fn client_meta(request: &HttpRequest) -> ClientMeta {
    ClientMeta {
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: request.peer_addr().map(|a| a.ip().to_string()),
    }
}
