//! The GraphiQL playground is served by Latchkey itself: a page whose scripts and styles
//! all come from `/graphiql/...` on the same server (no CDN), under a Content-Security-Policy
//! that allows only 'self', and nothing at all when `graphiql = false`.

use crate::helpers::TestApp;

/// Every file the page loads, and what it must be served as.
const PAGE_ASSETS: &[(&str, &str)] = &[
    ("react.production.min.js", "text/javascript"),
    ("react-dom.production.min.js", "text/javascript"),
    ("graphiql.min.js", "text/javascript"),
    ("graphiql.min.css", "text/css"),
    ("init.js", "text/javascript"),
    ("page.css", "text/css"),
];

const LICENSES: &[&str] = &["LICENSE-graphiql", "LICENSE-react", "LICENSE-react-dom"];

async fn get_page(app: &TestApp) -> reqwest::Response {
    app.client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap()
}

async fn get_path(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// The values of every `src="..."` and `href="..."` attribute in the page.
fn linked_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').unwrap();
            urls.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    urls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_page_loads_every_asset_from_the_server_itself() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let page = get_page(&app).await;

    // Assert: an HTML page under a CSP that allows only this server.
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy").to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("style-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    assert!(!csp.contains("http"), "the CSP names no other host: {csp}");
    let html = page.text().await.unwrap();
    for needle in [
        "http:", "https:", "//", "unpkg", "jsdelivr", "<style", "style=",
    ] {
        assert!(
            !html.contains(needle),
            "the page holds {needle:?}, which would load or run something the CSP refuses:\n{html}"
        );
    }
    // No inline script: every <script> has a src.
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=\"").count()
    );

    // Every script and stylesheet is one of ours, by a content-hashed URL, and is served.
    let urls = linked_urls(&html);
    for (name, _) in PAGE_ASSETS {
        assert!(
            urls.iter()
                .any(|url| url.starts_with(&format!("graphiql/{name}?v="))),
            "{name} is not linked from the page: {urls:?}"
        );
    }
    // An empty icon, so the browser does not ask for /favicon.ico (a 404 in its console).
    assert!(html.contains(r#"<link rel="icon" href="data:,">"#));
    for url in urls.iter().filter(|url| url.as_str() != "data:,") {
        assert!(url.starts_with("graphiql/"), "{url} is not a local asset");
        // Relative to the page at /graphql, `graphiql/x` is `/graphiql/x`.
        let asset = get_path(&app, &format!("/{url}")).await;
        assert_eq!(asset.status(), 200, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_assets_are_served_with_their_content_type_and_cached_long() {
    // Arrange
    let app = TestApp::spawn().await;

    for (name, content_type) in PAGE_ASSETS {
        // Act
        let asset = get_path(&app, &format!("/graphiql/{name}")).await;

        // Assert
        assert_eq!(asset.status(), 200, "{name}");
        assert_eq!(
            header(&asset, "content-type"),
            format!("{content_type}; charset=utf-8"),
            "{name}"
        );
        assert_eq!(
            header(&asset, "cache-control"),
            "public, max-age=31536000, immutable",
            "{name}"
        );
        assert_eq!(header(&asset, "x-content-type-options"), "nosniff");
        assert!(!asset.bytes().await.unwrap().is_empty(), "{name} is empty");
    }

    // The vendored builds are the real ones, and their licences travel with them.
    let graphiql = get_path(&app, "/graphiql/graphiql.min.js").await;
    let graphiql = graphiql.text().await.unwrap();
    assert!(graphiql.contains(".GraphiQL="), "GraphiQL's UMD global");
    for name in LICENSES {
        let licence = get_path(&app, &format!("/graphiql/{name}")).await;
        assert_eq!(licence.status(), 200, "{name}");
        assert!(header(&licence, "content-type").starts_with("text/plain"));
        assert!(licence.text().await.unwrap().contains("MIT License"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_graphiql_asset_is_404() {
    let app = TestApp::spawn().await;

    for path in [
        "/graphiql/nothing.js",
        "/graphiql/README.md",
        "/graphiql/..%2f..%2fCargo.toml",
        "/graphiql/",
        "/graphiql",
    ] {
        let response = get_path(&app, path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_graphiql_off_the_page_and_every_asset_are_404() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.graphiql = false).await;

    // Act
    let page = get_page(&app).await;

    // Assert
    assert_eq!(page.status(), 404);
    for name in PAGE_ASSETS
        .iter()
        .map(|(name, _)| *name)
        .chain(LICENSES.iter().copied())
    {
        let asset = get_path(&app, &format!("/graphiql/{name}")).await;
        assert_eq!(asset.status(), 404, "{name}");
    }
    // GraphQL itself is still served.
    let query = app.get("/graphql", &[("query", "{ __typename }")]).await;
    assert_eq!(query.body["data"]["__typename"], "Query");
}
