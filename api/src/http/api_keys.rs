//! The project API-key gate on `POST /graphql` (API.md "Project API keys").
//!
//! The key comes from the `x-api-key` header, else the `key` query parameter (an empty one
//! counts as absent); the rule itself is [`crate::auth::apps::app::check`]. `GET /graphql` and
//! CORS preflights never reach this gate. The key is never logged or echoed.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::rejections::forbidden;
use super::state::AppState;
use crate::auth::apps::app::{self, KEY_PREFIX, PresentedKey};
use crate::auth::secret::OpaqueSecret;

/// The header a project API key travels in.
const KEY_HEADER: &str = "x-api-key";
/// The query parameter a project API key travels in when the header is absent.
const KEY_PARAMETER: &str = "key";

/// `Ok` when the request may go on; otherwise the 403 to answer with, naming the rule.
pub async fn check(request: &HttpRequest, state: &AppState) -> Result<(), HttpResponse> {
    let app = match presented_key(request) {
        None => None,
        // A malformed key cannot belong to an app: not worth a lookup.
        Some(raw) => match OpaqueSecret::parse(KEY_PREFIX, &raw) {
            Some(key) => Some(state.apps.resolve(&key).await),
            None => Some(None),
        },
    };
    let presented = match &app {
        None => PresentedKey::Absent,
        Some(None) => PresentedKey::Unknown,
        Some(Some(app)) => PresentedKey::Known(app),
    };
    // A header that is not text is still an origin, one that matches nothing.
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or_default());
    app::check(state.settings.api_keys_required, presented, origin).map_err(|refusal| {
        let app = app
            .as_ref()
            .and_then(|a| a.as_ref())
            .map(|a| a.name.as_str());
        tracing::info!(
            rule = refusal.rule(),
            app,
            origin,
            "request refused by the API-key gate"
        );
        forbidden(&refusal.to_string())
    })
}

/// The `x-api-key` header, else the `key` query parameter; empty values count as absent.
/// A header that is not text is kept (lossily), so it is judged as an unknown key.
fn presented_key(request: &HttpRequest) -> Option<String> {
    if let Some(value) = request.headers().get(KEY_HEADER) {
        let value = String::from_utf8_lossy(value.as_bytes());
        let value = value.trim();
        if !value.is_empty() {
            return Some(value.to_owned());
        }
    }
    serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
        .unwrap_or_default()
        .into_iter()
        .find(|(name, value)| name == KEY_PARAMETER && !value.is_empty())
        .map(|(_, value)| value)
}
