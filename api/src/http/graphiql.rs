//! The GraphiQL playground, served entirely by Latchkey itself: the page at `GET /graphql`
//! (for browsers) and its scripts and styles at `GET /graphiql/{file}`. Nothing loads from a
//! CDN: the vendored files in `api/assets/graphiql/` (see its README for where each comes
//! from) are compiled into the binary, so the playground works offline, and no third party
//! learns who opens it. With `graphiql = false` the page and every file are 404.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

use super::state::AppState;

/// Where the assets are served; the page names them relative to itself (`graphiql/...`
/// from `/graphql`), so a proxy may mount Latchkey under a prefix.
pub const ASSET_ROUTE: &str = "/graphiql/{file}";

/// Scripts and styles from this server only. Fonts and icons come as `data:` URIs inside
/// GraphiQL's stylesheet (no request at all); queries go to this server's `/graphql`.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The asset URLs carry a hash of their content, so browsers may keep them for a year and
/// still get the new files after an upgrade.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

/// Every file under `/graphiql/`: the vendored builds with their licences, and our own
/// start-up script and page style.
const ASSETS: &[Asset] = &[
    asset!("react.production.min.js", JS),
    asset!("react-dom.production.min.js", JS),
    asset!("graphiql.min.js", JS),
    asset!("graphiql.min.css", CSS),
    asset!("init.js", JS),
    asset!("page.css", CSS),
    asset!("LICENSE-graphiql", TEXT),
    asset!("LICENSE-react", TEXT),
    asset!("LICENSE-react-dom", TEXT),
];

/// `graphiql/<name>?v=<first 16 hex digits of its SHA-256>`.
fn asset_url(name: &str) -> String {
    let hash = ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .map(|asset| {
            Sha256::digest(asset.body)
                .iter()
                .take(8)
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        })
        .unwrap_or_default();
    format!("graphiql/{name}?v={hash}")
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Latchkey GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{graphiql_css}">
    <link rel="stylesheet" href="{page_css}">
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script src="{react}"></script>
    <script src="{react_dom}"></script>
    <script src="{graphiql}"></script>
    <script src="{init}"></script>
  </body>
</html>
"#,
        graphiql_css = asset_url("graphiql.min.css"),
        page_css = asset_url("page.css"),
        react = asset_url("react.production.min.js"),
        react_dom = asset_url("react-dom.production.min.js"),
        graphiql = asset_url("graphiql.min.js"),
        init = asset_url("init.js"),
    )
});

/// The playground page (`GET /graphql` asking for HTML), or 404 when it is turned off.
pub fn page(state: &AppState) -> HttpResponse {
    if !state.settings.graphiql {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        // Small, and it names the current asset hashes: always revalidate.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .body(PAGE.as_str())
}

/// `GET /graphiql/{file}`: one of the page's files, or 404 (also for every file when the
/// playground is turned off).
pub async fn asset(file: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let found = ASSETS.iter().find(|asset| asset.name == file.as_str());
    match found {
        Some(asset) if state.settings.graphiql => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE)))
            .insert_header((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .body(asset.body),
        _ => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_script_and_style_by_a_local_hashed_url() {
        for name in [
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "graphiql.min.css",
            "init.js",
            "page.css",
        ] {
            let url = asset_url(name);
            assert!(PAGE.contains(&url), "{url} missing from the page");
            assert_eq!(url.len(), format!("graphiql/{name}?v=").len() + 16);
        }
        assert!(!PAGE.contains("//"), "the page names no other host");
    }
}
