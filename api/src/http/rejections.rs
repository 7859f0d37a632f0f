//! Request-level refusals, in the same `{"errors":[...]}` shape as GraphQL errors so a
//! client has one error format to read.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde_json::json;

use crate::graphql::errors::code;

pub fn reject(status: StatusCode, code: &'static str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(json!({
            "errors": [{
                "message": message,
                "extensions": { "code": code, "status": status.as_u16() },
            }]
        }))
}

pub fn bad_request(message: &str) -> HttpResponse {
    reject(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message)
}

/// HTTP 403 `FORBIDDEN`: the request may not be served at all (the API-key gate).
pub fn forbidden(message: &str) -> HttpResponse {
    reject(StatusCode::FORBIDDEN, code::FORBIDDEN, message)
}

/// HTTP 503 `SERVICE_UNAVAILABLE` with `Retry-After`: this instance has no room for the
/// request now (a full queue, every socket taken); another try, or another instance, may.
pub fn busy(message: &str, retry_after: &'static str) -> HttpResponse {
    let mut busy = reject(
        StatusCode::SERVICE_UNAVAILABLE,
        code::SERVICE_UNAVAILABLE,
        message,
    );
    busy.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    busy
}

pub fn payload_too_large(limit: usize) -> HttpResponse {
    reject(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::BAD_REQUEST,
        &format!("request body is larger than {limit} bytes"),
    )
}
