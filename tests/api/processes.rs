//! `latchkey serve` as a real process on a random port: for what only a process shows
//! (signals, exit status, several instances starting at once).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cli::latchkey;

/// A running `latchkey` process and what it has logged so far.
pub struct ServerProcess {
    pub child: Child,
    /// Filled by `wait_listening` (0 until then).
    pub port: u16,
    lines: mpsc::Receiver<String>,
    pub log: Vec<String>,
    _workdir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `latchkey serve` on `database_url`, on a random loopback port, with these
    /// extra `LATCHKEY_*` variables; does not wait for it to listen.
    pub fn start(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        let workdir = tempfile::tempdir().unwrap();
        let mut command = latchkey(database_url, workdir.path());
        command
            .arg("serve")
            .env("LATCHKEY_BIND", "127.0.0.1:0")
            .env("LATCHKEY_MAIL_DIR", workdir.path().join("mail"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        ServerProcess {
            child,
            port: 0,
            lines,
            log: Vec::new(),
            _workdir: workdir,
        }
    }

    /// Waits for the "latchkey listening" line and takes the port from it; `Err` with
    /// the log if the process ends first (or says nothing for a minute).
    pub fn wait_listening(&mut self) -> Result<u16, String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let port = line
                        .contains("latchkey listening")
                        .then(|| line.split("port=").nth(1))
                        .flatten()
                        .and_then(|rest| {
                            rest.split(|c: char| !c.is_ascii_digit())
                                .next()
                                .and_then(|digits| digits.parse().ok())
                        });
                    self.log.push(line);
                    if let Some(port) = port {
                        self.port = port;
                        return Ok(port);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        self.drain_log();
                        return Err(format!("exited with {status}: {:#?}", self.log));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().unwrap();
                    self.drain_log();
                    return Err(format!("exited with {status}: {:#?}", self.log));
                }
            }
        }
        Err(format!("not listening after a minute: {:#?}", self.log))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends SIGTERM, as a service manager or an orchestrator does.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to end (at most `limit`), then collects the rest of its log.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.drain_log();
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running after {limit:?}: {:#?}",
                self.log
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Moves every line logged so far into `log`.
    pub fn drain_log(&mut self) {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
            self.log.push(line);
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
