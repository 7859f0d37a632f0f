//! Stopping on SIGTERM without dropping work: the listener closes at once (a balancer
//! retries elsewhere on a refused connection), `/ready` answers 503 on connections still
//! open, requests in flight finish within `shutdown_grace`, then the background workers
//! finish their round and the process exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// Whether this process has begun to stop: read by `/ready`, waited on by the workers.
#[derive(Clone)]
pub struct Stopping {
    begun: Arc<AtomicBool>,
    signal: watch::Sender<bool>,
}

impl Default for Stopping {
    fn default() -> Self {
        Stopping {
            begun: Arc::new(AtomicBool::new(false)),
            signal: watch::Sender::new(false),
        }
    }
}

impl Stopping {
    pub fn begin(&self) {
        self.begun.store(true, Ordering::SeqCst);
        self.signal.send_replace(true);
    }

    pub fn has_begun(&self) -> bool {
        self.begun.load(Ordering::SeqCst)
    }

    /// For a background task: `changed()` wakes it when the stop begins.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.signal.subscribe()
    }
}

/// SIGTERM and SIGINT (Ctrl-C), registered up front so a signal that comes during the
/// start is not lost. Only the `serve` command listens: a process that embeds the server
/// (the tests) keeps its own signal handling.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn register() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the first signal received.
    pub async fn first(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
