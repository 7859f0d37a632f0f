//! Liveness, readiness and the public key set.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::state::AppState;

/// The process is up.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Not stopping, and the database answers: a balancer sends requests here only then.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.stopping.has_begun() {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "stopping" }))
    } else if pinged(&state).await {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "database unavailable" }))
    }
}

/// On the application's runtime, so a connection the ping opens is not bound to this
/// worker's (see `AppState::runtime`).
async fn pinged(state: &AppState) -> bool {
    let store = state.store.clone();
    state
        .runtime
        .spawn(async move { store.ping().await })
        .await
        .unwrap_or(false)
}

/// Public keys that verify access tokens (RFC 7517). Cacheable for a minute; a verifier
/// that meets an unknown `kid` should fetch the set again.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .content_type("application/jwk-set+json")
        .json(state.auth.jwks())
}
