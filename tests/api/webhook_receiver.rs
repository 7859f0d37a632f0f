//! A webhook receiver in the test process: a real HTTP server on a random loopback port
//! that keeps every request it gets and answers 500 to the first `fail_first` of them
//! (or to all, while `failing` is set).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }

    /// Verifies the Standard Webhooks signature with the reference implementation (the
    /// `standardwebhooks` crate), independent of the server's code.
    pub fn verify(&self, secret: &str) -> Result<(), String> {
        let webhook = standardwebhooks::Webhook::new(secret).map_err(|e| e.to_string())?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        webhook
            .verify(&self.body, &headers)
            .map_err(|e| e.to_string())
    }
}

struct State {
    received: Mutex<Vec<Received>>,
    /// Answers every request with a redirect there, when set.
    redirect_to: Option<String>,
    fail_first: AtomicUsize,
    failing: AtomicBool,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    _server: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<State>>) -> HttpResponse {
    let mut received = state.received.lock().unwrap();
    let fail = state.failing.load(Ordering::SeqCst)
        || received.len() < state.fail_first.load(Ordering::SeqCst);
    let answered = if state.redirect_to.is_some() {
        307
    } else if fail {
        500
    } else {
        204
    };
    received.push(Received {
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
        answered,
    });
    if let Some(location) = &state.redirect_to {
        HttpResponse::TemporaryRedirect()
            .insert_header(("location", location.as_str()))
            .finish()
    } else if fail {
        HttpResponse::InternalServerError().body("not now")
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Receiver {
    /// A receiver answering 500 to its first `fail_first` requests, then 204.
    pub fn start(fail_first: usize) -> Receiver {
        Self::start_with(fail_first, None)
    }

    /// A receiver answering every request with a 307 to `location`.
    pub fn start_redirecting(location: &str) -> Receiver {
        Self::start_with(0, Some(location.to_owned()))
    }

    fn start_with(fail_first: usize, redirect_to: Option<String>) -> Receiver {
        let state = Arc::new(State {
            received: Mutex::new(Vec::new()),
            redirect_to,
            fail_first: AtomicUsize::new(fail_first),
            failing: AtomicBool::new(false),
        });
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state,
            _server: handle,
        }
    }

    /// Answers 500 to everything while `failing`.
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.answered < 300)
            .collect()
    }

    /// Waits (up to 20 s) until at least `count` requests arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..800 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "expected {count} webhook requests, got {:#?}",
            self.received()
        );
    }

    /// Waits (up to 20 s) until requests of every kind in `kinds` were accepted.
    pub async fn wait_for_kinds(&self, kinds: &[&str]) -> Vec<Received> {
        for _ in 0..800 {
            let accepted = self.accepted();
            if kinds
                .iter()
                .all(|kind| accepted.iter().any(|r| r.kind() == *kind))
            {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let got: Vec<String> = self.accepted().iter().map(Received::kind).collect();
        panic!("expected webhook events {kinds:?}, got {got:?}");
    }
}
