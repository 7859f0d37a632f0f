//! `TestApp`: a real Latchkey server on a random port, on a fresh database, driven over real
//! HTTP by a `reqwest` client with a cookie jar, the way a frontend would.
//!
//! The database is a SQLite file in a temporary directory, or, when `TEST_DATABASE_URL` is set
//! (`postgres://user@host:port/any_db`), a fresh PostgreSQL database per test.
//!
//! The server tells the time by `app.clock`, which a test moves instead of waiting for a
//! lock, an expiry or a TOTP step to pass.

use std::sync::Arc;

use latchkey_api::auth::clock::ManualClock;
use latchkey_api::config::Settings;
use latchkey_api::startup::Application;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const REGISTER: &str = r"
mutation Register($input: RegisterInput!) {
  register(input: $input) { id username email firstname lastname created passwordExpiration totpEnabled role }
}";

/// Everything a JSON-mode `AuthPayload` carries; shared by `login` and `refresh`.
const PAYLOAD_FIELDS: &str = "accessToken refreshToken tokenType expires expiresAt \
    user { id username email firstname lastname role } \
    credentials { identityId token refreshToken } passwordExpiration";

pub fn login_document() -> String {
    format!("mutation Login($input: LoginInput!) {{ login(input: $input) {{ {PAYLOAD_FIELDS} }} }}")
}

pub fn refresh_document() -> String {
    format!(
        "mutation Refresh($refreshToken: String) {{ refresh(refreshToken: $refreshToken) {{ {PAYLOAD_FIELDS} }} }}"
    )
}

pub const ME: &str = "query Me { me { id username email firstname lastname role totpEnabled } }";

pub const LOGOUT: &str =
    "mutation Logout($refreshToken: String) { logout(refreshToken: $refreshToken) }";

/// A user with random, valid credentials; nothing is registered until `app.register`.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub username: String,
    pub email: String,
    pub password: String,
}

impl TestUser {
    pub fn generate() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let username = format!("user_{}", &id[..8]);
        Self {
            email: format!("{username}@example.com"),
            username,
            password: format!("Pw-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The `RegisterInput` for this user.
    pub fn register_input(&self) -> Value {
        json!({
            "username": self.username,
            "email": self.email,
            "password": self.password,
            "firstname": "Ada",
            "lastname": "Lovelace",
        })
    }
}

/// What the server answered: status, headers and the body (JSON, or `Value::Null` if the body
/// is not JSON; the raw text is kept for messages).
#[derive(Debug)]
pub struct GqlResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl GqlResponse {
    pub async fn from_response(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// The `data` of a successful answer; panics with the whole answer otherwise.
    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected HTTP 200, got {self:#?}"
        );
        let no_errors = match self.body.get("errors") {
            None | Some(Value::Null) => true,
            Some(Value::Array(errors)) => errors.is_empty(),
            Some(_) => false,
        };
        assert!(no_errors, "expected no errors, got {:#}", self.body);
        let data = &self.body["data"];
        assert!(data.is_object(), "expected data, got {:#}", self.body);
        data
    }

    /// A GraphQL-level error (HTTP 200 under `application/json`): the first error has this
    /// `extensions.code` and `extensions.status`, and no token leaks in `data` or headers.
    #[track_caller]
    pub fn assert_error(&self, code: &str, status: u16) {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "a GraphQL error is HTTP 200 under application/json, got {self:#?}"
        );
        self.assert_error_body(code, status);
        assert_no_token(&self.body["data"], &self.body);
        assert!(
            self.headers.get("authorization").is_none(),
            "an error answer must not carry an Authorization header: {self:#?}"
        );
    }

    /// A request-level refusal: this HTTP status and a GraphQL-shaped body whose first error has
    /// this `extensions.code` and `extensions.status` = the HTTP status.
    #[track_caller]
    pub fn assert_rejected(&self, http_status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            http_status,
            "expected HTTP {http_status}, got {self:#?}"
        );
        self.assert_error_body(code, http_status);
        assert!(
            self.body.get("data").is_none_or(Value::is_null),
            "a refused request carries no data: {:#}",
            self.body
        );
    }

    /// The first error's `message`.
    #[track_caller]
    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error message, got {:#}", self.body))
    }

    #[track_caller]
    fn assert_error_body(&self, code: &str, status: u16) {
        let first = &self.body["errors"][0];
        assert!(
            first.is_object(),
            "expected a GraphQL-shaped errors body, got HTTP {} with body {:?}",
            self.status,
            self.text
        );
        assert!(
            first["message"].as_str().is_some_and(|m| !m.is_empty()),
            "every error has a message: {:#}",
            self.body
        );
        assert_eq!(
            first["extensions"]["code"],
            json!(code),
            "wrong extensions.code in {:#}",
            self.body
        );
        assert_eq!(
            first["extensions"]["status"],
            json!(status),
            "wrong extensions.status in {:#}",
            self.body
        );
    }
}

#[track_caller]
fn assert_no_token(value: &Value, whole: &Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map {
                let is_token_field =
                    matches!(key.as_str(), "accessToken" | "refreshToken" | "token");
                assert!(
                    !(is_token_field && field.is_string()),
                    "an error answer must carry no token, found `{key}` in {whole:#}"
                );
                assert_no_token(field, whole);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| assert_no_token(item, whole)),
        _ => {}
    }
}

/// A running server, its client, and what it needs to be restarted on the same database.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The `metrics_bind` listener's port, when the settings ask for one.
    pub metrics_port: Option<u16>,
    pub client: reqwest::Client,
    /// The server's time: real time until a test moves it (`app.clock.advance(..)`). Kept
    /// across `restart` and shared with `another_instance`: one deployment, one time.
    pub clock: Arc<ManualClock>,
    database_url: String,
    configure: Box<dyn Fn(&mut Settings) + Send + Sync>,
    stop: Option<oneshot::Sender<()>>,
    /// The running server's "stopping" flag (what SIGTERM sets first).
    pub stopping: latchkey_api::shutdown::Stopping,
    /// The running server's event bus: what it hears of every instance's events.
    pub event_bus: Arc<latchkey_api::auth::events::EventBus>,
    /// On PostgreSQL, the running server's feed of other instances' changes.
    pub change_feed: Option<latchkey_api::notify::ChangeFeed>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// Keeps the SQLite file alive for the life of the test.
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with the test settings adjusted by `configure` (applied again on `restart`).
    pub async fn spawn_with(configure: impl Fn(&mut Settings) + Send + Sync + 'static) -> Self {
        Self::spawn_on(TestDatabase::create().await, configure).await
    }

    /// Spawns on a database prepared beforehand (for example by the CLI).
    pub async fn spawn_on(
        database: TestDatabase,
        configure: impl Fn(&mut Settings) + Send + Sync + 'static,
    ) -> Self {
        Self::spawn_at(database, Arc::new(ManualClock::new()), configure).await
    }

    /// Spawns on that database, telling the time by that clock.
    async fn spawn_at(
        database: TestDatabase,
        clock: Arc<ManualClock>,
        configure: impl Fn(&mut Settings) + Send + Sync + 'static,
    ) -> Self {
        let TestDatabase {
            url: database_url,
            dir,
        } = database;
        // reqwest has no TLS provider of its own here (see the server's webhook client).
        latchkey_api::webhooks::client::install_default_crypto_provider();
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .no_proxy()
            // No idle keep-alive connections: a graceful stop (restart) need not wait for them.
            .pool_max_idle_per_host(0)
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("HTTP client");

        let mut app = Self {
            address: String::new(),
            port: 0,
            metrics_port: None,
            client,
            clock,
            database_url,
            configure: Box::new(configure),
            stop: None,
            stopping: latchkey_api::shutdown::Stopping::default(),
            event_bus: Arc::default(),
            change_feed: None,
            server: None,
            _dir: dir,
        };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let mut settings = Settings::for_tests(self.database_url.clone());
        (self.configure)(&mut settings);
        let application = Application::build_with_clock(settings, self.clock.clone())
            .await
            .expect("the application builds");
        self.port = application.port();
        self.metrics_port = application.metrics_port();
        self.stopping = application.stopping();
        self.event_bus = application.event_bus();
        self.change_feed = application.change_feed();
        self.address = format!("http://127.0.0.1:{}", self.port);
        let handle = application.handle();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            if stopped.await.is_ok() {
                handle.stop(true).await;
            }
        });
        self.stop = Some(stop);
        self.server = Some(tokio::spawn(application.run_until_stopped()));
    }

    /// A second server on the same database and clock, with default test settings: another
    /// instance of the same deployment.
    pub async fn another_instance(&self) -> Self {
        self.another_instance_with(|_| {}).await
    }

    /// A second server on the same database and clock, with the test settings adjusted by
    /// `configure`.
    pub async fn another_instance_with(
        &self,
        configure: impl Fn(&mut Settings) + Send + Sync + 'static,
    ) -> Self {
        let database = TestDatabase {
            url: self.database_url.clone(),
            dir: None,
        };
        Self::spawn_at(database, self.clock.clone(), configure).await
    }

    /// Stops the server gracefully and starts a new one on the same database and settings
    /// (on a new port).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// Stops the server gracefully (until `restart`), keeping its database.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).expect("the stop task is alive");
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("the server task did not panic")
                .expect("the server stopped cleanly");
        }
    }

    /// The database this server runs on (for tests that inspect or share it).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POST `{"query", "variables"}` as `application/json` to `/graphql`.
    pub async fn gql(&self, query: &str, variables: Value) -> GqlResponse {
        self.send_graphql(None, query, variables).await
    }

    /// Same as `gql`, with `Authorization: Bearer <token>`.
    pub async fn gql_with_token(&self, token: &str, query: &str, variables: Value) -> GqlResponse {
        self.send_graphql(Some(token), query, variables).await
    }

    async fn send_graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> GqlResponse {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        GqlResponse::from_response(request.send().await.expect("POST /graphql")).await
    }

    /// POST an arbitrary body to `/graphql`, with this `Content-Type` (or none).
    pub async fn post_raw(
        &self,
        body: impl Into<Vec<u8>>,
        content_type: Option<&str>,
    ) -> GqlResponse {
        let mut request = self.client.post(self.url("/graphql")).body(body.into());
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        GqlResponse::from_response(request.send().await.expect("POST /graphql")).await
    }

    /// GET a path; `query` pairs are URL-encoded.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> GqlResponse {
        let mut url = reqwest::Url::parse(&self.url(path)).expect("a valid URL");
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        GqlResponse::from_response(self.client.get(url).send().await.expect("GET")).await
    }

    pub async fn register_response(&self, user: &TestUser) -> GqlResponse {
        self.gql(REGISTER, json!({ "input": user.register_input() }))
            .await
    }

    /// Registers the user; returns the `User`.
    pub async fn register(&self, user: &TestUser) -> Value {
        self.register_response(user).await.assert_ok()["register"].clone()
    }

    pub async fn login(&self, input: Value) -> GqlResponse {
        self.gql(&login_document(), json!({ "input": input })).await
    }

    /// A freshly registered user, logged in by username (JSON mode), and its `AuthPayload`.
    pub async fn signed_in_user(&self) -> (TestUser, Value) {
        let user = TestUser::generate();
        self.register(&user).await;
        let payload = self.login_username(&user).await;
        (user, payload)
    }

    /// Logs the user in by username (JSON mode); returns the `AuthPayload`.
    pub async fn login_username(&self, user: &TestUser) -> Value {
        self.login(json!({ "username": user.username, "password": user.password }))
            .await
            .assert_ok()["login"]
            .clone()
    }

    pub async fn refresh(&self, refresh_token: &str) -> GqlResponse {
        self.gql(
            &refresh_document(),
            json!({ "refreshToken": refresh_token }),
        )
        .await
    }

    pub async fn logout(&self, refresh_token: &str) -> GqlResponse {
        self.gql(LOGOUT, json!({ "refreshToken": refresh_token }))
            .await
    }

    /// `me`, with `Authorization: Bearer <token>` when a token is given.
    pub async fn me(&self, token: Option<&str>) -> GqlResponse {
        match token {
            Some(token) => self.gql_with_token(token, ME, json!({})).await,
            None => self.gql(ME, json!({})).await,
        }
    }
}

/// The decoded JSON of a JWT's header (`part` 0) or claims (`part` 1), signature unchecked.
#[track_caller]
pub fn jwt_part(token: &str, part: usize) -> Value {
    use base64::Engine as _;
    let encoded = token
        .split('.')
        .nth(part)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .expect("a base64url JWT part");
    serde_json::from_slice(&bytes).expect("a JSON JWT part")
}

/// A string field of a JSON object, or a panic naming it.
#[track_caller]
pub fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("expected a string `{field}` in {value:#}"))
}

/// A fresh, empty database: a SQLite file in a temporary directory, or a new PostgreSQL
/// database when `TEST_DATABASE_URL` is set.
pub struct TestDatabase {
    pub url: String,
    /// Keeps the SQLite file alive for the life of the test.
    pub dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Self {
                url: create_postgres_database(url.trim()).await,
                dir: None,
            },
            _ => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("latchkey.db");
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    dir: Some(dir),
                }
            }
        }
    }
}

/// Creates `lk_test_<uuid>` next to the database in `admin_url` and returns its URL.
async fn create_postgres_database(admin_url: &str) -> String {
    let name = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .expect("create the test database");
    admin.close().await.expect("close the admin connection");
    with_database_name(admin_url, &name)
}

/// `postgres://u@h:5432/old?x=y` with the database name replaced: `postgres://u@h:5432/new?x=y`.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[test]
fn the_database_name_in_a_postgres_url_is_replaced() {
    assert_eq!(
        with_database_name(
            "postgres://postgres@127.0.0.1:5432/latchkey_ci",
            "lk_test_1"
        ),
        "postgres://postgres@127.0.0.1:5432/lk_test_1"
    );
    assert_eq!(
        with_database_name("postgres://u:p@db/x?sslmode=disable", "n"),
        "postgres://u:p@db/n?sslmode=disable"
    );
    assert_eq!(
        with_database_name("postgres://db:5432", "n"),
        "postgres://db:5432/n"
    );
}

#[cfg(test)]
mod can_fail {
    use super::GqlResponse;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use serde_json::{Value, json};

    fn answer(body: Value) -> GqlResponse {
        GqlResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            text: body.to_string(),
            body,
        }
    }

    fn unauthenticated(data: Value) -> GqlResponse {
        answer(json!({
            "data": data,
            "errors": [{ "message": "no", "extensions": { "code": "UNAUTHENTICATED", "status": 401 } }],
        }))
    }

    #[test]
    fn assert_error_accepts_the_expected_code_and_status() {
        unauthenticated(Value::Null).assert_error("UNAUTHENTICATED", 401);
    }

    #[test]
    #[should_panic(expected = "wrong extensions.code")]
    fn assert_error_refuses_another_code() {
        unauthenticated(Value::Null).assert_error("BAD_USER_INPUT", 401);
    }

    #[test]
    #[should_panic(expected = "wrong extensions.status")]
    fn assert_error_refuses_another_status() {
        unauthenticated(Value::Null).assert_error("UNAUTHENTICATED", 400);
    }

    #[test]
    #[should_panic(expected = "must carry no token")]
    fn assert_error_refuses_a_token_in_the_data() {
        unauthenticated(json!({ "login": { "accessToken": "eyJ..." } }))
            .assert_error("UNAUTHENTICATED", 401);
    }

    #[test]
    #[should_panic(expected = "expected no errors")]
    fn assert_ok_refuses_an_error() {
        unauthenticated(json!({ "me": null })).assert_ok();
    }
}
