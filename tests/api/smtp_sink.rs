//! A real SMTP server for the tests: `mailin-embedded` in this process, on a random
//! loopback port, keeping every message it receives so a test can read what arrived.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use latchkey_api::config::Settings;
use latchkey_api::config::mail::{MailTransportSettings, SmtpSecurity, SmtpSettings};
use mailin_embedded::response::{OK, Response};
use mailin_embedded::{Handler, Server, SslConfig};

/// One message as it arrived: the envelope recipients and the raw message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    /// The decoded `text/plain` part.
    pub fn text(&self) -> String {
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).expect("a parseable message");
        find_part(&parsed, "text/plain").expect("a text/plain part")
    }

    /// The decoded `text/html` part.
    pub fn html(&self) -> String {
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).expect("a parseable message");
        find_part(&parsed, "text/html").expect("a text/html part")
    }

    pub fn subject(&self) -> String {
        use mailparse::MailHeaderMap as _;
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).expect("a parseable message");
        parsed
            .headers
            .get_first_value("Subject")
            .expect("a Subject header")
    }

    /// The token in the message's link (`...#token=<token>`).
    pub fn link_token(&self) -> String {
        let text = self.text();
        let start = text.find("#token=").expect("a link with #token=") + "#token=".len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The whole link (`http...#token=...`).
    pub fn link(&self) -> String {
        let text = self.text();
        let token_at = text.find("#token=").expect("a link with #token=");
        let start = text[..token_at]
            .rfind("http")
            .expect("a link starting with http");
        let token = self.link_token();
        format!("{}#token={token}", &text[start..token_at])
    }

    /// The 8-character code ("... enter this code where you signed in: XXXXXXXX").
    pub fn code(&self) -> String {
        let text = self.text();
        let start = text.find("signed in: ").expect("a code") + "signed in: ".len();
        text[start..start + 8].to_owned()
    }
}

fn find_part(mail: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
    if mail.ctype.mimetype == mime {
        return mail.get_body().ok();
    }
    mail.subparts.iter().find_map(|part| find_part(part, mime))
}

#[derive(Clone)]
struct Collector {
    inbox: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let raw = String::from_utf8_lossy(&self.data).into_owned();
        self.inbox.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw,
        });
        OK
    }
}

/// A running SMTP server and what it received.
pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Starts one on a random loopback port.
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        Self::start_on(listener)
    }

    /// Starts one on a port chosen earlier (where nothing listened meanwhile: the server
    /// was "down").
    pub fn start_on_port(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the chosen port");
        Self::start_on(listener)
    }

    fn start_on(listener: TcpListener) -> SmtpSink {
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let handler = Collector {
            inbox: inbox.clone(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("smtp.test")
            .with_ssl(SslConfig::None)
            .expect("no TLS")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpSink { port, inbox }
    }

    /// Points the settings' mail at this server (plain SMTP on loopback), with a short
    /// poll interval.
    pub fn configure(port: u16, settings: &mut Settings) {
        settings.mail.transport = MailTransportSettings::Smtp(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
        });
        settings.mail.poll_interval = Duration::from_millis(50);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Messages received for `address`.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits (polling, up to 20 s of real time) until `count` messages for `address`
    /// arrived; returns them.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.to(address);
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {count} mail(s) for {address}, got {:#?}",
            self.to(address)
        );
    }
}

/// A loopback port where nothing listens (bound, then released).
pub fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// One outbox row as the database holds it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
}

/// Every outbox row of the app's database, oldest first.
pub async fn outbox_rows(app: &crate::helpers::TestApp) -> Vec<OutboxRow> {
    use sea_orm::{ConnectionTrait as _, Database, Statement};
    let db = Database::connect(app.database_url()).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT kind, recipient, status, attempts FROM mail_outbox ORDER BY created_at",
        ))
        .await
        .unwrap();
    let out = rows
        .iter()
        .map(|row| OutboxRow {
            kind: row.try_get("", "kind").unwrap(),
            recipient: row.try_get("", "recipient").unwrap(),
            status: row.try_get("", "status").unwrap(),
            attempts: row.try_get("", "attempts").unwrap(),
        })
        .collect();
    db.close().await.unwrap();
    out
}
