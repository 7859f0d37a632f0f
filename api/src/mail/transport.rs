//! How a rendered message leaves: real SMTP (lettre; STARTTLS or implicit TLS), or, with
//! no `smtp_url`, an `.eml` file in `mail_dir`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use secrecy::ExposeSecret as _;

use crate::config::mail::{MailTransportSettings, SmtpSecurity};

/// How long one SMTP conversation may take before it counts as failed (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A message ready to go.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

pub enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files {
        dir: PathBuf,
        files: AsyncFileTransport<Tokio1Executor>,
    },
}

impl MailTransport {
    pub fn new(settings: &MailTransportSettings) -> anyhow::Result<MailTransport> {
        Ok(match settings {
            MailTransportSettings::Files { dir } => {
                create_private_dir(dir)
                    .with_context(|| format!("mail_dir: creating {}", dir.display()))?;
                MailTransport::Files {
                    dir: dir.clone(),
                    files: AsyncFileTransport::new(dir),
                }
            }
            MailTransportSettings::Smtp(smtp) => {
                let tls = || {
                    TlsParameters::new(smtp.host.clone())
                        .context("smtp_url: setting up TLS for this host")
                };
                let security = match smtp.security {
                    SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
                    SmtpSecurity::StartTls => Tls::Required(tls()?),
                    SmtpSecurity::Plain => Tls::None,
                };
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                        .port(smtp.port)
                        .tls(security)
                        .timeout(Some(SMTP_TIMEOUT));
                if let Some(user) = &smtp.username {
                    let password = smtp
                        .password
                        .as_ref()
                        .map(|p| p.expose_secret().to_owned())
                        .unwrap_or_default();
                    builder = builder.credentials(Credentials::new(user.clone(), password));
                }
                MailTransport::Smtp(builder.build())
            }
        })
    }

    /// Sends one message. The error says what failed, never what the message holds.
    pub async fn send(&self, from: &Mailbox, message: &Outgoing<'_>) -> anyhow::Result<()> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|_| anyhow::anyhow!("the recipient is not a valid address"))?;
        let email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(message.subject)
            // A Message-ID made from this host's name: mail without one looks like spam.
            .message_id(None)
            .multipart(MultiPart::alternative_plain_html(
                message.text.to_owned(),
                message.html.to_owned(),
            ))
            .context("building the message")?;
        match self {
            MailTransport::Smtp(smtp) => {
                smtp.send(email)
                    .await
                    .map_err(|e| anyhow::anyhow!("SMTP: {e}"))?;
            }
            MailTransport::Files { dir, files } => {
                let id = files
                    .send(email)
                    .await
                    .map_err(|e| anyhow::anyhow!("writing the .eml file: {e}"))?;
                // The path tells a developer where to look; the token stays in the file.
                let path = dir.join(format!("{id}.eml"));
                make_private(&path).context("mail_dir: making the .eml file the owner's alone")?;
                tracing::info!(path = %path.display(), "mail written to a file (no smtp_url set)");
            }
        }
        Ok(())
    }
}

/// The mail directory holds live tokens until they are spent: only its owner may read it.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Each file too, so that a directory opened up later by hand (to share it with a mail
/// viewer, say) does not open the tokens with it.
fn make_private(file: &std::path::Path) -> std::io::Result<()> {
    set_mode(file, 0o600)
}

fn set_mode(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
