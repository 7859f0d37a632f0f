//! Mail settings: how mail leaves (SMTP or `.eml` files), where its links point, what it
//! may cost, and which notices go out.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::raw::RawSettings;
use super::values::{ConfigError, invalid, parse_duration};

/// How mail leaves the server.
#[derive(Debug, Clone)]
pub enum MailTransportSettings {
    /// Real SMTP.
    Smtp(SmtpSettings),
    /// No `smtp_url`: each message is written as an `.eml` file into this directory, so a
    /// laptop run has working flows without a mail server.
    Files { dir: PathBuf },
}

/// How a connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    ImplicitTls,
    /// `smtp://`: STARTTLS, required (port 587 by default): the password and the tokens in
    /// the mails never cross the network in the clear.
    StartTls,
    /// `smtp://...?tls=none`: no encryption, for a relay on the same host (and tests).
    Plain,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// From the URL, or from `smtp_password_file`.
    pub password: Option<SecretString>,
}

/// The frontend paths the links in mails point to, under `public_url`.
#[derive(Debug, Clone)]
pub struct MailLinks {
    /// `public_url` without a trailing slash.
    pub public_url: String,
    pub verify_email_path: String,
    pub reset_password_path: String,
    pub confirm_email_change_path: String,
}

/// Which security notices are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailNotices {
    pub password_changed: bool,
    pub totp_changed: bool,
    pub personal_token_created: bool,
    pub new_device: bool,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransportSettings,
    /// The `From:` mailbox, as written (`Name <address>` or an address).
    pub from: String,
    pub product_name: String,
    pub links: MailLinks,
    /// Templates that replace the built-in ones, file by file.
    pub templates_dir: Option<PathBuf>,
    pub reset_token_ttl: Duration,
    pub verify_token_ttl: Duration,
    pub require_verified_email: bool,
    /// Mails one address may be sent per hour (requests beyond are answered alike and
    /// send nothing).
    pub per_address_per_hour: u32,
    /// Mails one client address may cause per hour.
    pub per_client_per_hour: u32,
    /// How long delivered, failed and dropped outbox rows and spent tokens are kept.
    pub retention: Duration,
    /// Whether this instance runs the delivery worker.
    pub worker: bool,
    /// How often the worker looks for due mail when nothing wakes it.
    pub poll_interval: Duration,
    /// After this long without success a mail is given up (`failed`).
    pub give_up_after: Duration,
    pub notices: MailNotices,
}

pub(super) fn parse(raw: &RawSettings) -> Result<MailSettings, ConfigError> {
    let password_from_file = match raw.smtp_password_file.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| invalid("smtp_password_file", format!("cannot read {path}: {e}")))?;
            Some(SecretString::from(
                text.trim_end_matches(['\r', '\n']).to_owned(),
            ))
        }
    };
    let transport = match raw.smtp_url.as_deref().map(str::trim) {
        None | Some("") => {
            if password_from_file.is_some() {
                return Err(invalid(
                    "smtp_password_file",
                    "needs smtp_url: without it mail is written to files",
                ));
            }
            MailTransportSettings::Files {
                dir: PathBuf::from(raw.mail_dir.trim()),
            }
        }
        Some(url) => MailTransportSettings::Smtp(parse_smtp_url(url, password_from_file)?),
    };
    if raw.mail_from.trim().is_empty() {
        return Err(invalid("mail_from", "must not be empty"));
    }
    let public_url = raw.public_url.trim().trim_end_matches('/').to_owned();
    if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
        return Err(invalid("public_url", "must start with https:// or http://"));
    }
    let path = |key: &'static str, value: &str| -> Result<String, ConfigError> {
        let value = value.trim();
        if value.starts_with('/') && !value.contains(['#', '?', ' ']) {
            Ok(value.to_owned())
        } else {
            Err(invalid(
                key,
                "must be a path starting with / (no ?, # or spaces)",
            ))
        }
    };
    let links = MailLinks {
        public_url,
        verify_email_path: path("verify_email_path", &raw.verify_email_path)?,
        reset_password_path: path("reset_password_path", &raw.reset_password_path)?,
        confirm_email_change_path: path(
            "confirm_email_change_path",
            &raw.confirm_email_change_path,
        )?,
    };
    let reset_token_ttl = parse_duration("reset_token_ttl", &raw.reset_token_ttl)?;
    if !(Duration::from_secs(60)..=Duration::from_secs(24 * 3600)).contains(&reset_token_ttl) {
        return Err(invalid("reset_token_ttl", "must lie between 1m and 24h"));
    }
    let verify_token_ttl = parse_duration("verify_token_ttl", &raw.verify_token_ttl)?;
    if !(Duration::from_secs(60)..=Duration::from_secs(30 * 24 * 3600)).contains(&verify_token_ttl)
    {
        return Err(invalid("verify_token_ttl", "must lie between 1m and 30d"));
    }
    if raw.mail_per_address_per_hour == 0 {
        return Err(invalid("mail_per_address_per_hour", "must be at least 1"));
    }
    if raw.mail_per_client_per_hour == 0 {
        return Err(invalid("mail_per_client_per_hour", "must be at least 1"));
    }
    let retention = parse_duration("mail_retention", &raw.mail_retention)?;
    if retention < Duration::from_secs(3600) {
        return Err(invalid(
            "mail_retention",
            "must be at least 1h: the hourly limits count the rows kept",
        ));
    }
    let poll_interval = parse_duration("mail_poll_interval", &raw.mail_poll_interval)?;
    if poll_interval < Duration::from_millis(10) {
        return Err(invalid("mail_poll_interval", "must be at least 10ms"));
    }
    let give_up_after = parse_duration("mail_give_up_after", &raw.mail_give_up_after)?;
    let templates_dir = match raw.mail_templates_dir.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(dir) => Some(PathBuf::from(dir)),
    };
    Ok(MailSettings {
        transport,
        from: raw.mail_from.trim().to_owned(),
        product_name: raw.product_name.trim().to_owned(),
        links,
        templates_dir,
        reset_token_ttl,
        verify_token_ttl,
        require_verified_email: raw.require_verified_email,
        per_address_per_hour: raw.mail_per_address_per_hour,
        per_client_per_hour: raw.mail_per_client_per_hour,
        retention,
        worker: raw.mail_worker,
        poll_interval,
        give_up_after,
        notices: MailNotices {
            password_changed: raw.notify_password_changed,
            totp_changed: raw.notify_totp_changed,
            personal_token_created: raw.notify_personal_token_created,
            new_device: raw.notify_new_device,
        },
    })
}

/// `smtp://[user[:password]@]host[:port][?tls=none]` or `smtps://...`; user and password
/// percent-decoded. A password in `smtp_password_file` wins over one in the URL.
fn parse_smtp_url(
    url: &str,
    password_from_file: Option<SecretString>,
) -> Result<SmtpSettings, ConfigError> {
    let bad = |why: &str| invalid("smtp_url", why.to_owned());
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("must look like smtp://user:password@host:587 or smtps://..."))?;
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || hostport.starts_with('[') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| bad("has a port that is not a number from 1 to 65535"))?;
            (host, Some(port))
        }
        _ => (hostport, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad("names no host"));
    }
    let tls = match query {
        None | Some("") => None,
        Some("tls=none") => Some("none"),
        Some("tls=required") => Some("required"),
        Some(_) => return Err(bad("knows only the query `?tls=none` (or `?tls=required`)")),
    };
    let (security, default_port) = match (scheme.to_ascii_lowercase().as_str(), tls) {
        ("smtps", None | Some("required")) => (SmtpSecurity::ImplicitTls, 465),
        ("smtps", Some(_)) => return Err(bad("`smtps://` is always TLS: drop `?tls=none`")),
        ("smtp", Some("none")) => (SmtpSecurity::Plain, 25),
        ("smtp", _) => (SmtpSecurity::StartTls, 587),
        _ => return Err(bad("must start with smtp:// (STARTTLS) or smtps:// (TLS)")),
    };
    let decode = |part: &str| -> Result<String, ConfigError> {
        percent_decode(part).ok_or_else(|| bad("has a malformed %-escape in its user or password"))
    };
    let (username, url_password) = match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (
                Some(decode(user)?),
                Some(SecretString::from(decode(password)?)),
            ),
            None => (Some(decode(info)?), None),
        },
    };
    let username = username.filter(|user| !user.is_empty());
    let password = password_from_file.or(url_password);
    if password.is_some() && username.is_none() {
        return Err(bad("has a password but no user"));
    }
    Ok(SmtpSettings {
        host: host.to_owned(),
        port: port.unwrap_or(default_port),
        security,
        username,
        password,
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use secrecy::ExposeSecret as _;

    use super::*;

    fn smtp(url: &str) -> Result<SmtpSettings, ConfigError> {
        parse_smtp_url(url, None)
    }

    #[test]
    fn smtp_means_starttls_and_smtps_means_implicit_tls() {
        let starttls = smtp("smtp://mailer:p%40ss@mail.example.com").unwrap();
        assert_eq!(starttls.security, SmtpSecurity::StartTls);
        assert_eq!(starttls.port, 587);
        assert_eq!(starttls.host, "mail.example.com");
        assert_eq!(starttls.username.as_deref(), Some("mailer"));
        assert_eq!(starttls.password.unwrap().expose_secret(), "p@ss");
        let implicit = smtp("smtps://u:p@mail.example.com:2465").unwrap();
        assert_eq!(implicit.security, SmtpSecurity::ImplicitTls);
        assert_eq!(implicit.port, 2465);
        assert_eq!(smtp("smtps://h").unwrap().port, 465);
    }

    #[test]
    fn plain_smtp_must_be_asked_for() {
        let plain = smtp("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!(plain.security, SmtpSecurity::Plain);
        assert_eq!(plain.port, 2525);
        assert!(plain.username.is_none());
        assert!(smtp("smtps://h?tls=none").is_err());
    }

    #[test]
    fn a_password_file_wins_over_the_url() {
        let s = parse_smtp_url("smtp://u:inurl@h", Some("fromfile".to_owned().into())).unwrap();
        assert_eq!(s.password.unwrap().expose_secret(), "fromfile");
    }

    #[test]
    fn malformed_urls_name_the_setting() {
        for bad in [
            "mail.example.com",
            "http://h",
            "smtp://",
            "smtp://h:port",
            "smtp://h?x=y",
            "smtp://u:%zz@h",
            "smtp://:pw@h",
        ] {
            match smtp(bad) {
                Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "smtp_url", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn defaults_write_files_into_latchkey_mail() {
        let settings = parse(&RawSettings::default()).unwrap();
        match settings.transport {
            MailTransportSettings::Files { dir } => {
                assert_eq!(dir, PathBuf::from("./latchkey-mail/"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(settings.reset_token_ttl, Duration::from_secs(30 * 60));
        assert_eq!(settings.per_address_per_hour, 5);
        assert!(!settings.require_verified_email);
    }
}
