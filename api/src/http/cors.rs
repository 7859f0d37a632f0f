//! CORS for browser frontends (`actix-cors`).
//!
//! An origin is allowed when the operator listed it in `cors_origins` or some app lists it
//! (read from the live [`AppRegistry`], so `latchkey app add` needs no restart). Allowed
//! origins are echoed (never `*`) with credentials allowed, so cookies travel. Any other
//! origin gets no CORS headers at all: its preflight fails and the browser hides the
//! answer from its script. A non-preflight request is never refused here because of its
//! origin; refusing origins is the API-key gate's job (`api_keys.rs`).

use std::collections::HashSet;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::state::AppState;
use crate::auth::apps::origin::Origin;
use crate::auth::apps::registry::AppRegistry;

/// How long a browser may cache a preflight answer: an hour saves a round trip per call,
/// and every request is still checked by the API-key gate.
const PREFLIGHT_MAX_AGE_SECS: usize = 3600;

/// The `cors_origins` setting as origins; a value that is not one stops the start,
/// naming the setting.
pub fn configured_origins(setting: &[String]) -> anyhow::Result<Vec<Origin>> {
    setting
        .iter()
        .map(|raw| {
            Origin::parse(raw).map_err(|e| anyhow::anyhow!("invalid setting `cors_origins`: {e}"))
        })
        .collect()
}

/// The CORS middleware: `configured` (the `cors_origins` setting) plus every app's origins.
pub fn middleware(configured: &[Origin], apps: Arc<AppRegistry>) -> Cors {
    let configured: HashSet<Origin> = configured.iter().cloned().collect();
    Cors::default()
        .allowed_origin_fn(move |origin, _| is_allowed(origin, &configured, &apps))
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            HeaderName::from_static("x-api-key"),
            header::AUTHORIZATION,
            HeaderName::from_static("identityid"),
            header::CONTENT_TYPE,
        ])
        // `JSON` mode hands the access token over in the `Authorization` response header.
        .expose_headers([header::AUTHORIZATION])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(PREFLIGHT_MAX_AGE_SECS)
}

fn is_allowed(origin: &HeaderValue, configured: &HashSet<Origin>, apps: &AppRegistry) -> bool {
    origin
        .to_str()
        .ok()
        .and_then(|o| Origin::parse(o).ok())
        .is_some_and(|o| configured.contains(&o) || apps.allows_origin(&o))
}

/// Whether CORS allows `origin` (the `cors_origins` setting or an app's origins): the
/// same rule for a WebSocket, to which browsers apply no CORS themselves.
pub fn allows(state: &AppState, origin: &Origin) -> bool {
    state.cors_origins.contains(origin) || state.apps.allows_origin(origin)
}

/// Wraps [`middleware`], which must answer without waiting, with two things it cannot do:
///
/// - A preflight from an origin no app is known to allow first waits for the apps to be
///   re-read (at most once a second), so a frontend registered a moment ago with
///   `latchkey app add` can call at once: a browser's first call is its preflight, which
///   carries no key to trigger the re-read.
/// - `actix-cors` adds `Access-Control-Allow-Credentials` and
///   `Access-Control-Expose-Headers` to every answer, even one that allows no origin (a
///   request from an unlisted origin, or from a server that sends none). Without
///   `Access-Control-Allow-Origin` they mean nothing, so they are removed: an origin that
///   is not allowed gets no CORS headers at all.
pub async fn complete_answer(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if is_preflight(&request)
        && let Some(state) = request.app_data::<web::Data<AppState>>()
        && let Some(origin) = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .and_then(|o| Origin::parse(o).ok())
        && !state.cors_origins.contains(&origin)
    {
        state.apps.allows_origin_now(&origin).await;
    }
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    Ok(response)
}

/// `OPTIONS` with `Access-Control-Request-Method`, as `actix-cors` tells them apart.
fn is_preflight(request: &ServiceRequest) -> bool {
    request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{RawSettings, Settings};

    fn configured(cors_origins: &str) -> anyhow::Result<Vec<Origin>> {
        let raw = RawSettings {
            cors_origins: cors_origins.into(),
            ..RawSettings::default()
        };
        configured_origins(&Settings::from_raw(raw).unwrap().cors_origins)
    }

    #[test]
    fn cors_origins_are_checked_for_shape() {
        let err = configured("https://a.example.com/path")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cors_origins"), "{err}");
        assert!(err.contains("is not an origin"), "{err}");
        for bad in ["*", "null", "ftp://a.example.com"] {
            let err = configured(&format!("https://ok.example.com, {bad}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("cors_origins"), "{bad}: {err}");
        }
    }

    #[test]
    fn cors_origins_are_normalised() {
        let origins = configured(" HTTPS://A.example.com:443 ,, http://localhost:3000/ ").unwrap();
        let origins: Vec<&str> = origins.iter().map(Origin::as_str).collect();
        assert_eq!(origins, ["https://a.example.com", "http://localhost:3000"]);
    }
}
