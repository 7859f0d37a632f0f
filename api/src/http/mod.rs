//! The HTTP host: routes, request-level rules, credential extraction and token delivery.

mod api_keys;
mod client_info;
mod cookies;
pub mod cors;
mod credentials;
mod get_request;
mod graphiql;
mod graphql;
pub mod low_priority;
mod probes;
mod rejections;
pub mod state;
pub mod telemetry;

use actix_web::web;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(graphql::post))
            .route(web::get().to(graphql::get))
            .route(web::to(graphql::method_not_allowed)),
    )
    .route(graphiql::ASSET_ROUTE, web::get().to(graphiql::asset))
    .route("/.well-known/jwks.json", web::get().to(probes::jwks))
    .route("/health", web::get().to(probes::health))
    .route("/ready", web::get().to(probes::ready));
}
