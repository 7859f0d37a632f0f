//! Who and which: the first thing every request meets. It settles the client's address
//! (through trusted proxies, `forwarded.rs`) and the request's id, leaves both in the
//! request's extensions for the root span (`telemetry.rs`) and the handlers
//! (`client_info.rs`), and returns the id in `X-Request-Id` on every response, errors
//! included.

use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage as _, web};

use super::forwarded::client_address;
use super::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id accepted from a client; a longer one is replaced.
const MAX_ID_LEN: usize = 64;

/// The request's id: the client's `X-Request-Id` when well formed (1 to 64 characters of
/// `A-Z a-z 0-9 . _ -`), else a new UUIDv7 (time-ordered, so ids sort by arrival).
#[derive(Debug, Clone)]
pub struct RequestId(HeaderValue);

impl RequestId {
    fn of(request: &ServiceRequest) -> RequestId {
        request
            .headers()
            .get(&REQUEST_ID)
            .filter(|v| is_well_formed(v.as_bytes()))
            .cloned()
            .map_or_else(RequestId::generate, RequestId)
    }

    fn generate() -> RequestId {
        let id = uuid::Uuid::now_v7().hyphenated().to_string();
        // A hyphenated UUID is always a valid header value.
        RequestId(HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("-")))
    }

    pub fn as_str(&self) -> &str {
        // Only well-formed ASCII ever gets here.
        self.0.to_str().unwrap_or("-")
    }
}

/// Whether a client's request id may be taken as it is: short, and only characters that
/// need no escaping in a log line or a header.
pub fn is_well_formed(id: &[u8]) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The client's address, as settled once per request; everything that keys on an address
/// (budgets, sessions, mail limits, logs) uses this.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

/// Settles both for the request, and stamps the id on the response.
pub async fn middleware(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::of(&request);
    if let Some(address) = resolve_address(&request) {
        request.extensions_mut().insert(ClientAddress(address));
    }
    request.extensions_mut().insert(id.clone());
    match next.call(request).await {
        Ok(mut response) => {
            response.headers_mut().insert(REQUEST_ID, id.0);
            Ok(response)
        }
        // An error from an inner layer becomes its response here, so it carries the id
        // too. (The request cannot be kept to build a response: routing needs it unshared.)
        Err(error) => {
            let mut response = error.error_response();
            response.headers_mut().insert(REQUEST_ID, id.0);
            Err(InternalError::from_response(error.to_string(), response).into())
        }
    }
}

fn resolve_address(request: &ServiceRequest) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let Some(state) = request.app_data::<web::Data<AppState>>() else {
        return Some(peer.to_canonical());
    };
    let proxies = &state.settings.trusted_proxies;
    if proxies.is_empty() {
        return Some(peer.to_canonical());
    }
    let header = state.settings.forwarded_header;
    let values: Vec<&str> = request
        .headers()
        .get_all(header.name())
        // A line that is not text still counts as a hop, an unusable one: dropping it
        // would let the line to its left (the client's) speak in its place.
        .map(|v| v.to_str().unwrap_or("unreadable"))
        .collect();
    Some(client_address(peer, proxies, header, &values))
}

#[cfg(test)]
mod tests {
    use super::is_well_formed;

    #[test]
    fn request_ids_are_short_and_plain() {
        for ok in [
            "a",
            "req-1.2_3",
            &"x".repeat(64),
            "0190f0b4-6d7e-7abc-8def-0123456789ab",
        ] {
            assert!(is_well_formed(ok.as_bytes()), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a b", "a\nb", "é", "a/b", "a=b", "<x>"] {
            assert!(!is_well_formed(bad.as_bytes()), "{bad}");
        }
    }
}
