//! `Browser`: one browser profile talking to the server the way a frontend's
//! `fetch(url, { credentials: "include" })` does: a JSON body, and the cookies of its own jar
//! (kept and sent like a browser keeps them; `http://127.0.0.1` counts as a secure context, so
//! `Secure` and `__Host-` cookies are stored and sent too).
//!
//! Also reads the raw `Set-Cookie` headers of an answer, so tests can check every attribute.

use std::sync::Arc;

use reqwest::Url;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Map, Value, json};

use crate::helpers::{GqlResponse, LOGOUT, ME, TestApp, TestUser, login_document};

/// Cookie names under the test settings (`cookie_secure = false`: no `__Host-` prefix).
pub const ACCESS_COOKIE: &str = "latchkey_access";
pub const REFRESH_COOKIE: &str = "latchkey_refresh";
pub const DEVICE_COOKIE: &str = "latchkey_device";

/// `refresh` with both of its optional arguments; an argument left out of the variables is
/// absent, as if the client had not written it.
pub const REFRESH: &str = "mutation Refresh($refreshToken: String, $mode: TokenMode) { \
    refresh(refreshToken: $refreshToken, mode: $mode) { accessToken refreshToken tokenType \
    expires user { id username } credentials { identityId token refreshToken } } }";

pub struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    graphql_url: Url,
}

impl Browser {
    /// A fresh profile with an empty cookie jar, pointed at `app`.
    pub fn new(app: &TestApp) -> Self {
        // The same jar `cookie_store(true)` would create, kept here so tests can look inside.
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        Self {
            client,
            jar,
            graphql_url: Url::parse(&app.url("/graphql")).expect("a valid URL"),
        }
    }

    /// POST `{"query", "variables"}` to `/graphql` with the jar's cookies.
    pub async fn post(&self, query: &str, variables: Value) -> GqlResponse {
        self.post_with(query, variables, &[], &[]).await
    }

    /// Same as `post`, with extra request headers and query-string parameters.
    pub async fn post_with(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
        params: &[(&str, &str)],
    ) -> GqlResponse {
        let mut url = self.graphql_url.clone();
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        let mut request = self
            .client
            .post(url)
            .json(&json!({ "query": query, "variables": variables }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        GqlResponse::from_response(request.send().await.expect("POST /graphql")).await
    }

    /// `login` by username with this `mode` (`"JSON"`, `"COOKIE"` or `"SESSION"`).
    pub async fn login(&self, user: &TestUser, mode: &str) -> GqlResponse {
        let input = json!({ "username": user.username, "password": user.password, "mode": mode });
        self.post(&login_document(), json!({ "input": input }))
            .await
    }

    /// `refresh` with no token argument (the refresh cookie is used), and `mode` if given.
    pub async fn refresh(&self, mode: Option<&str>) -> GqlResponse {
        let mut variables = Map::new();
        if let Some(mode) = mode {
            variables.insert("mode".into(), json!(mode));
        }
        self.post(REFRESH, Value::Object(variables)).await
    }

    /// `me`, carried by nothing but the jar's cookies.
    pub async fn me(&self) -> GqlResponse {
        self.post(ME, json!({})).await
    }

    /// `logout` with no argument (the refresh cookie is used).
    pub async fn logout(&self) -> GqlResponse {
        self.post(LOGOUT, json!({})).await
    }

    /// The value of the cookie `name` that the next request would send, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.graphql_url)?;
        let header = header.to_str().expect("an ASCII Cookie header").to_owned();
        header
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// Puts a cookie into the jar, as if the server had set it (for replaying old values).
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &self.graphql_url);
    }
}

/// One raw `Set-Cookie` header: `name=value` and its attributes, as sent.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// `(attribute, value)` in the order sent; flags such as `HttpOnly` have an empty value.
    pub attributes: Vec<(String, String)>,
    pub raw: String,
}

impl SetCookie {
    fn parse(raw: &str) -> Self {
        let mut parts = raw.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|pair| pair.split_once('='))
            .unwrap_or_else(|| panic!("a Set-Cookie header starts with name=value: {raw:?}"));
        let attributes = parts
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((key, value)) => (key.trim().to_owned(), value.trim().to_owned()),
                None => (part.to_owned(), String::new()),
            })
            .collect();
        Self {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            attributes,
            raw: raw.to_owned(),
        }
    }

    /// The value of an attribute (name compared without regard to case), if present.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.attribute(key).is_some()
    }

    /// `Max-Age` in seconds; panics if it is missing or not a number.
    #[track_caller]
    pub fn max_age(&self) -> i64 {
        self.attribute("Max-Age")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("expected a numeric Max-Age in {:?}", self.raw))
    }
}

/// Every `Set-Cookie` header of an answer.
pub fn set_cookies(response: &GqlResponse) -> Vec<SetCookie> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("an ASCII Set-Cookie header")))
        .collect()
}

/// The `Set-Cookie` header for `name`; panics, listing what was set, if there is none.
#[track_caller]
pub fn set_cookie(response: &GqlResponse, name: &str) -> SetCookie {
    let all = set_cookies(response);
    all.iter()
        .find(|c| c.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("expected a Set-Cookie for `{name}`, got {all:#?}"))
}
