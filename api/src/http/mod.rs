//! The HTTP host: routes, request-level rules, credential extraction and token delivery.

mod api_keys;
mod client_info;
mod cookies;
pub mod cors;
mod credentials;
mod forwarded;
mod get_request;
mod graphiql;
mod graphql;
pub mod low_priority;
mod metrics_endpoint;
mod probes;
mod rejections;
pub mod request_identity;
pub mod state;
pub mod telemetry;
pub mod websocket;

use actix_web::web;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(graphql::post))
            .route(
                web::get()
                    .guard(actix_web::guard::fn_guard(websocket::is_upgrade))
                    .to(websocket::upgrade),
            )
            .route(web::get().to(graphql::get))
            .route(web::to(graphql::method_not_allowed)),
    )
    .route(graphiql::ASSET_ROUTE, web::get().to(graphiql::asset))
    .route("/.well-known/jwks.json", web::get().to(probes::jwks))
    .route("/health", web::get().to(probes::health))
    .route("/ready", web::get().to(probes::ready))
    .route(
        "/metrics",
        web::get().to(metrics_endpoint::on_main_listener),
    );
}

/// The routes of the `metrics_bind` listener: `/metrics` alone.
pub fn metrics_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics_endpoint::on_own_listener));
}
