//! SIGTERM: the process stops accepting at once, lets the requests in flight finish, and
//! exits 0 (`shutdown_grace`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDatabase, TestUser, login_document};
use crate::processes::ServerProcess;

/// Costs that make one password hash take about a second in a test build, so a login is
/// surely still in flight when the signal comes.
const SLOW_HASHING: [(&str, &str); 2] = [
    ("LATCHKEY_HASH_ITERATIONS", "60"),
    ("LATCHKEY_HASH_CONCURRENCY", "1"),
];

async fn post(client: &reqwest::Client, url: &str, query: &str, variables: Value) -> Value {
    client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("a JSON body")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// An HTTP/1.1 GET on an open connection; the status line's code, or `None` when the
/// server closed the connection instead of answering.
fn get_on(stream: &mut TcpStream, path: &str) -> Option<u16> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut buffer = [0u8; 1024];
    let read = stream.read(&mut buffer).ok()?;
    let head = String::from_utf8_lossy(buffer.get(..read)?).into_owned();
    head.split(' ').nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_a_login_in_flight_refuses_new_connections_and_exits_zero() {
    // Arrange: a server, a user, a kept-alive connection, and a slow login in flight.
    let database = TestDatabase::create().await;
    let mut server = ServerProcess::start(&database.url, &SLOW_HASHING);
    server.wait_listening().unwrap();
    let graphql = server.url("/graphql");
    let user = TestUser::generate();
    let registered = post(
        &client(),
        &graphql,
        crate::helpers::REGISTER,
        json!({ "input": user.register_input() }),
    )
    .await;
    assert!(registered["errors"].is_null(), "{registered:#}");
    let mut kept_alive = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    kept_alive
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(get_on(&mut kept_alive, "/ready"), Some(200));
    let started = Instant::now();
    let login = tokio::spawn({
        let graphql = graphql.clone();
        let input = json!({ "input": { "username": user.username, "password": user.password } });
        async move { post(&client(), &graphql, &login_document(), input).await }
    });
    // The request reaches the server and waits for its hash.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act
    server.terminate();
    let signalled = Instant::now();
    let mut refused = false;
    while signalled.elapsed() < Duration::from_secs(5) && !login.is_finished() {
        match TcpStream::connect(("127.0.0.1", server.port)) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let in_flight_while_refused = !login.is_finished();
    let ready_while_stopping = get_on(&mut kept_alive, "/ready");
    let answer = login.await.unwrap();
    let answered = started.elapsed();
    let status = server.wait_exit(Duration::from_secs(30));

    // Assert
    assert!(refused, "a new connection was still accepted after SIGTERM");
    assert!(
        in_flight_while_refused,
        "the login ended before new connections were refused: make hashing slower ({answered:?})"
    );
    assert!(
        answer["errors"].is_null() && answer["data"]["login"]["accessToken"].is_string(),
        "the login in flight did not complete: {answer:#}"
    );
    assert_ne!(
        ready_while_stopping,
        Some(200),
        "a stopping server must not call itself ready"
    );
    assert_eq!(status.code(), Some(0), "{:#?}", server.log);
    assert!(
        server.log.iter().any(|l| l.contains("SIGTERM")),
        "{:#?}",
        server.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_server_exits_zero_at_once_on_sigterm() {
    let database = TestDatabase::create().await;
    let mut server = ServerProcess::start(&database.url, &[]);
    server.wait_listening().unwrap();

    server.terminate();
    let signalled = Instant::now();
    let status = server.wait_exit(Duration::from_secs(30));

    assert_eq!(status.code(), Some(0), "{:#?}", server.log);
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "an idle server waited {:?} to stop",
        signalled.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_is_not_ready_but_still_alive() {
    // A stop closes the listener and idle connections at once, so this is the moment
    // between the signal and the close, held open: what a balancer's check sees on a
    // connection it still has.
    let app = TestApp::spawn().await;
    let ready_before = app
        .client
        .get(app.url("/ready"))
        .send()
        .await
        .unwrap()
        .status();

    app.stopping.begin();
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    let health = app.client.get(app.url("/health")).send().await.unwrap();

    assert_eq!(ready_before, 200);
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({ "status": "stopping" })
    );
    assert_eq!(health.status(), 200);
}
