//! `X-Request-Id`: a well-formed one from the client is kept, anything else replaced by a
//! new id; every answer carries it, and every log line of the request names it.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::latchkey;
use crate::helpers::{TestApp, TestDatabase, login_document};

fn id_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .unwrap_or_else(|| {
            panic!(
                "no X-Request-Id on {} {}",
                response.status(),
                response.url()
            )
        })
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_generated(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 7)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_formed_request_id_is_kept_and_anything_else_replaced() {
    let app = TestApp::spawn().await;
    let send = |id: Option<&str>| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };

    for kept in ["abc-123", "A.b_C-9", &"z".repeat(64)] {
        assert_eq!(id_of(&send(Some(kept)).await.unwrap()), kept);
    }
    let mut seen = Vec::new();
    for replaced in [
        None,
        Some(""),
        Some("has space"),
        Some("a/b"),
        Some(&"z".repeat(65) as &str),
    ] {
        let id = id_of(&send(replaced).await.unwrap());
        assert!(is_generated(&id), "{replaced:?} gave {id}");
        assert!(!seen.contains(&id), "ids repeat: {id}");
        seen.push(id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_errors_and_probes_included() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 1024).await;
    let c = &app.client;
    let answers = [
        c.get(app.url("/no-such-path")).send().await.unwrap(),
        c.get(app.url("/health")).send().await.unwrap(),
        c.get(app.url("/ready")).send().await.unwrap(),
        c.get(app.url("/metrics")).send().await.unwrap(),
        c.get(app.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
        c.post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(vec![b' '; 4096])
            .send()
            .await
            .unwrap(),
        c.post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
        c.put(app.url("/graphql")).send().await.unwrap(),
        c.request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", "https://not-allowed.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap(),
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert!(
        statuses.contains(&404) && statuses.contains(&413),
        "{statuses:?}"
    );
    for answer in &answers {
        assert!(is_generated(&id_of(answer)));
    }
}

/// The JSON log lines the server wrote, until `stop` is sent.
fn collect_lines(stderr: std::process::ChildStderr, lines: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
}

/// The `request` span's fields in a JSON log line, if the line is inside one.
fn request_span(line: &Value) -> Option<&Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|span| span["name"] == "request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_log_line_of_a_request_names_its_id_and_client() {
    // Arrange: the real binary, JSON logs, behind a trusted proxy (the test itself).
    let database = TestDatabase::create().await;
    let workdir = tempfile::tempdir().unwrap();
    let mut child = latchkey(&database.url, workdir.path())
        .arg("serve")
        .env("LATCHKEY_BIND", "127.0.0.1:0")
        .env("LATCHKEY_LOG_FORMAT", "json")
        .env("LATCHKEY_TRUSTED_PROXIES", "127.0.0.0/8")
        .env("LATCHKEY_COOKIE_SECURE", "false")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, lines) = mpsc::channel();
    collect_lines(child.stderr.take().unwrap(), sender);
    let mut log = Vec::new();
    let port = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the server starts");
        let json: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        log.push(json.clone());
        if json["fields"]["message"] == "latchkey listening" {
            break json["fields"]["port"].as_u64().unwrap();
        }
    };

    // Act: a failed login (it logs inside the request) with our id, via "the proxy".
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("x-request-id", "trace-me-42")
        .header("x-forwarded-for", "198.51.100.23")
        .json(&json!({
            "query": login_document(),
            "variables": { "input": { "username": "nobody_here", "password": "wrong-password" } },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&response), "trace-me-42");
    response.text().await.unwrap();
    // The request's span closes (and is logged) as the answer is written: wait for it.
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the request is logged");
        let json: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        log.push(json.clone());
        if json["span"]["request_id"] == "trace-me-42" && json["fields"]["message"] == "close" {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Assert: the request's lines (its own events, the failure count, the span's close)
    // all carry the id and the forwarded client address.
    let ours: Vec<&Value> = log
        .iter()
        .filter(|line| {
            request_span(line).is_some_and(|s| s["request_id"] == "trace-me-42")
                || line["span"]["request_id"] == "trace-me-42"
        })
        .collect();
    assert!(
        ours.iter()
            .any(|l| l["fields"]["message"] == "failed login counted"),
        "{log:#?}"
    );
    for line in &ours {
        let span = request_span(line).unwrap_or(&line["span"]);
        assert_eq!(span["client"], "198.51.100.23", "{line}");
    }
    // No line of any request lacks an id.
    for line in &log {
        if let Some(span) = request_span(line) {
            assert!(
                span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
                "{line}"
            );
        }
    }
}
