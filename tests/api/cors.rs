//! CORS: origins from `cors_origins` and from apps are echoed with credentials; any other
//! origin gets no CORS headers, and is never refused here just for its origin.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::api_keys::{FRONTEND, Key, add_app, post_typename};
use crate::helpers::{GqlResponse, TestApp, TestDatabase};

const CONFIGURED: &str = "https://admin.example.com";
const UNLISTED: &str = "https://unlisted.example.net";

const CORS_HEADERS: [&str; 6] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
];

/// A server whose `cors_origins` lists [`CONFIGURED`]; API keys required or not.
async fn spawn_with_cors(api_keys_required: bool) -> TestApp {
    TestApp::spawn_with(move |s| {
        s.cors_origins = vec![CONFIGURED.to_owned()];
        s.api_keys_required = api_keys_required;
    })
    .await
}

/// What a browser sends before a credentialed JSON `POST /graphql` with a key.
async fn preflight(app: &TestApp, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// Comma-separated header values, lower-cased, as a list.
fn listed(headers: &HeaderMap, name: &str) -> Vec<String> {
    header(headers, name)
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

#[track_caller]
fn assert_preflight_allows(response: &reqwest::Response, origin: &str) {
    let headers = response.headers();
    assert!(response.status().is_success(), "{response:#?}");
    assert_eq!(
        header(headers, "access-control-allow-origin"),
        Some(origin),
        "the origin is echoed, never `*`: {headers:#?}"
    );
    assert_eq!(
        header(headers, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = listed(headers, "access-control-allow-methods");
    assert!(
        methods.contains(&"post".into()) && methods.contains(&"get".into()),
        "{methods:?}"
    );
    let allowed = listed(headers, "access-control-allow-headers");
    for name in ["x-api-key", "authorization", "identityid", "content-type"] {
        assert!(allowed.contains(&name.to_owned()), "{name} in {allowed:?}");
    }
    let max_age: u64 = header(headers, "access-control-max-age")
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age > 0, "{max_age}");
}

#[track_caller]
fn assert_no_cors_headers(headers: &HeaderMap) {
    for name in CORS_HEADERS {
        assert!(
            headers.get(name).is_none(),
            "unexpected {name}: {headers:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_a_configured_origin_is_allowed_with_credentials_and_needs_no_key() {
    // Arrange: keys are required, and a preflight never carries one.
    let app = spawn_with_cors(true).await;

    // Act
    let response = preflight(
        &app,
        CONFIGURED,
        "POST",
        "content-type,x-api-key,authorization,identityid",
    )
    .await;

    // Assert
    assert_preflight_allows(&response, CONFIGURED);
    assert!(
        listed(response.headers(), "vary").contains(&"origin".to_owned()),
        "caches must key on the origin: {:#?}",
        response.headers()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_an_app_origin_added_while_the_server_runs_is_allowed_at_once() {
    // Arrange: the server is running before the app exists.
    let app = spawn_with_cors(true).await;
    let before = preflight(&app, FRONTEND, "POST", "content-type,x-api-key").await;
    assert_no_cors_headers(before.headers());

    // Act
    add_app(app.database_url(), "web", &[FRONTEND], false).await;
    let response = preflight(&app, FRONTEND, "POST", "content-type,x-api-key").await;

    // Assert
    assert_preflight_allows(&response, FRONTEND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_an_unlisted_origin_gets_no_cors_headers() {
    // Arrange
    let app = spawn_with_cors(false).await;
    add_app(app.database_url(), "web", &[FRONTEND], false).await;

    // Act
    let unlisted = preflight(&app, UNLISTED, "POST", "content-type").await;
    let null = preflight(&app, "null", "POST", "content-type").await;
    let lookalike = preflight(
        &app,
        "https://admin.example.com.evil.net",
        "POST",
        "content-type",
    )
    .await;

    // Assert
    for response in [&unlisted, &null, &lookalike] {
        assert_no_cors_headers(response.headers());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_for_another_method_or_header_is_not_allowed() {
    // Arrange
    let app = spawn_with_cors(false).await;

    // Act
    let delete = preflight(&app, CONFIGURED, "DELETE", "content-type").await;
    let odd_header = preflight(&app, CONFIGURED, "POST", "x-something-else").await;

    // Assert
    for response in [&delete, &odd_header] {
        assert!(!response.status().is_success(), "{response:#?}");
        assert!(
            response
                .headers()
                .get("access-control-allow-methods")
                .is_none(),
            "{response:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_from_an_allowed_origin_gets_the_origin_echoed_with_credentials_and_authorization_exposed()
 {
    // Arrange
    let app = spawn_with_cors(false).await;

    // Act
    let response = post_typename(&app, Key::None, Some(CONFIGURED)).await;

    // Assert
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
    assert_eq!(
        header(&response.headers, "access-control-allow-origin"),
        Some(CONFIGURED)
    );
    assert_eq!(
        header(&response.headers, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(
        listed(&response.headers, "access-control-expose-headers")
            .contains(&"authorization".to_owned()),
        "{:#?}",
        response.headers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_from_an_unlisted_origin_is_served_without_cors_headers() {
    // Arrange: no keys required, so only CORS could refuse it, and CORS does not refuse.
    let app = spawn_with_cors(false).await;

    // Act
    let from_unlisted = post_typename(&app, Key::None, Some(UNLISTED)).await;
    let without_origin = post_typename(&app, Key::None, None).await;

    // Assert
    for response in [&from_unlisted, &without_origin] {
        assert_eq!(response.assert_ok()["__typename"], json!("Query"));
        assert_no_cors_headers(&response.headers);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_refusal_to_an_allowed_origin_is_readable_by_the_browser() {
    // Arrange: the admin origin is allowed by CORS, but the app's key is not for it.
    let app = spawn_with_cors(true).await;
    let key = add_app(app.database_url(), "web", &[FRONTEND], false).await;

    // Act
    let response: GqlResponse = post_typename(&app, Key::Header(&key), Some(CONFIGURED)).await;

    // Assert
    response.assert_rejected(403, "FORBIDDEN");
    assert!(response.error_message().starts_with("origin not allowed"));
    assert_eq!(
        header(&response.headers, "access-control-allow-origin"),
        Some(CONFIGURED)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_origin_is_allowed_by_cors_for_posts_too() {
    // Arrange: the app exists when the server starts.
    let database = TestDatabase::create().await;
    let key = add_app(&database.url, "web", &[FRONTEND], false).await;
    let app = TestApp::spawn_on(database, |s| s.api_keys_required = true).await;

    // Act
    let response = post_typename(&app, Key::Header(&key), Some(FRONTEND)).await;

    // Assert
    assert_eq!(response.assert_ok()["__typename"], json!("Query"));
    assert_eq!(
        header(&response.headers, "access-control-allow-origin"),
        Some(FRONTEND)
    );
    assert_eq!(
        header(&response.headers, "access-control-allow-credentials"),
        Some("true")
    );
}
