//! A database outage: requests fail fast with `SERVICE_UNAVAILABLE`, `/ready` says 503,
//! and everything works again, without a restart, once the database is back. PostgreSQL
//! only, and without stopping the machine's server (other tests share it): the server
//! under test reaches PostgreSQL through a TCP forwarder this test cuts and restores.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{TestApp, TestDatabase, TestUser, str_field};

/// Forwards loopback connections to PostgreSQL until cut: then it closes every
/// connection and stops listening (new connections are refused, as with a stopped
/// server) until restored on the same port.
struct Forwarder {
    address: SocketAddr,
    upstream: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Forwarder {
    async fn start(upstream: String) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let forwarder = Forwarder {
            address: listener.local_addr().unwrap(),
            upstream,
            tasks: Arc::default(),
        };
        forwarder.serve(listener);
        forwarder
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(pipe.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// The database "goes down": every connection closed, none accepted.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The database "comes back" on the same address.
    async fn restore(&self) {
        let listener = loop {
            match TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                // The aborted accept loop may take a moment to drop the old socket.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }
}

/// `postgres://user@host:port/db?x` with `host:port` replaced.
fn via(url: &str, address: SocketAddr) -> (String, String) {
    let scheme_end = url.find("://").unwrap() + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (user, host) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    let proxied = format!(
        "{}{user}{address}{}",
        &url[..scheme_end],
        &rest[authority_end..]
    );
    let upstream = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    (proxied, upstream)
}

async fn ready_status(app: &TestApp) -> u16 {
    app.client
        .get(app.url("/ready"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_requests_fail_fast_and_all_works_again_when_it_returns() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |url| url.trim().is_empty()) {
        println!(
            "skipped: PostgreSQL only (set TEST_DATABASE_URL); a SQLite file has no outage to survive"
        );
        return;
    }
    // Arrange: a server on a fresh database reached through the forwarder; a user with
    // a session.
    let database = TestDatabase::create().await;
    let (_, upstream) = via(&database.url, "127.0.0.1:1".parse().unwrap());
    let forwarder = Forwarder::start(upstream).await;
    let (proxied, _) = via(&database.url, forwarder.address);
    let app = TestApp::spawn_on(
        TestDatabase {
            url: proxied,
            dir: None,
        },
        |s| s.database_acquire_timeout = Duration::from_secs(1),
    )
    .await;
    let user = TestUser::generate();
    app.register(&user).await;
    let login = app.login_username(&user).await;
    let access = str_field(&login, "accessToken").to_owned();
    let refresh_token = str_field(&login, "refreshToken").to_owned();
    assert_eq!(ready_status(&app).await, 200);

    // Act: the database goes away.
    forwarder.cut();
    let down = Instant::now();
    let ready_down = ready_status(&app).await;
    let login_down = app
        .login(serde_json::json!({ "username": user.username, "password": user.password }))
        .await;
    let refresh_down = app.refresh(&refresh_token).await;
    let me_down = app.me(Some(&access)).await;
    let register_down = app.register_response(&TestUser::generate()).await;
    let failing_took = down.elapsed();

    // ...and comes back.
    forwarder.restore().await;
    let back = Instant::now();
    while ready_status(&app).await != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "not ready 10 s after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered_in = back.elapsed();
    let refreshed = app.refresh(&refresh_token).await;
    let me_back = app.me(Some(&access)).await;
    let login_back = app
        .login(serde_json::json!({ "username": user.username, "password": user.password }))
        .await;

    // Assert: fast, honest failures while down...
    assert_eq!(ready_down, 503);
    login_down.assert_error("SERVICE_UNAVAILABLE", 503);
    refresh_down.assert_error("SERVICE_UNAVAILABLE", 503);
    register_down.assert_error("SERVICE_UNAVAILABLE", 503);
    // `me` may be answered from what the instance already knows of the session; it must
    // never say the caller is logged out.
    if me_down.body["errors"].is_array() {
        me_down.assert_error("SERVICE_UNAVAILABLE", 503);
    }
    assert!(
        failing_took < Duration::from_secs(10),
        "five requests against a dead database took {failing_took:?}"
    );
    // ...and, once it is back, the session survived and was not rotated by the failure.
    assert!(recovered_in < Duration::from_secs(5), "{recovered_in:?}");
    assert!(
        refreshed.assert_ok()["refresh"]["refreshToken"].is_string(),
        "the refresh token tried during the outage must still be the live one"
    );
    me_back.assert_ok();
    login_back.assert_ok();
}

#[test]
fn a_database_url_is_pointed_at_another_address() {
    let address: SocketAddr = "127.0.0.1:6000".parse().unwrap();
    assert_eq!(
        via(
            "postgres://postgres@127.0.0.1:5432/lk_test_1?sslmode=disable",
            address
        ),
        (
            "postgres://postgres@127.0.0.1:6000/lk_test_1?sslmode=disable".to_owned(),
            "127.0.0.1:5432".to_owned()
        )
    );
    assert_eq!(
        via("postgres://u:p@db/x", address),
        (
            "postgres://u:p@127.0.0.1:6000/x".to_owned(),
            "db:5432".to_owned()
        )
    );
}
