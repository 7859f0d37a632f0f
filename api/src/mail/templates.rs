//! Mail templates: plain text and HTML per kind, shipped in the binary, each file
//! replaceable by one of the same name in `mail_templates_dir`.
//!
//! A `.txt` template starts with a `Subject:` line and a blank line. Placeholders are
//! `{{name}}`; values are HTML-escaped in `.html` templates. A template that names a
//! placeholder the server does not know is refused at start, not mailed half-filled.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;

use crate::auth::email::kind::MailKind;

/// The placeholders a template may use.
const KNOWN: [&str; 6] = [
    "product",
    "username",
    "link",
    "code",
    "valid_for",
    "reset_link",
];

fn builtin(kind: MailKind) -> (&'static str, &'static str) {
    match kind {
        MailKind::VerifyEmail => (
            include_str!("templates/verify_email.txt"),
            include_str!("templates/verify_email.html"),
        ),
        MailKind::PasswordReset => (
            include_str!("templates/password_reset.txt"),
            include_str!("templates/password_reset.html"),
        ),
        MailKind::PasswordChanged => (
            include_str!("templates/password_changed.txt"),
            include_str!("templates/password_changed.html"),
        ),
        MailKind::TotpEnabled => (
            include_str!("templates/totp_enabled.txt"),
            include_str!("templates/totp_enabled.html"),
        ),
        MailKind::TotpDisabled => (
            include_str!("templates/totp_disabled.txt"),
            include_str!("templates/totp_disabled.html"),
        ),
        MailKind::PersonalTokenCreated => (
            include_str!("templates/personal_token_created.txt"),
            include_str!("templates/personal_token_created.html"),
        ),
        MailKind::NewDevice => (
            include_str!("templates/new_device.txt"),
            include_str!("templates/new_device.html"),
        ),
        MailKind::EmailChange => (
            include_str!("templates/email_change.txt"),
            include_str!("templates/email_change.html"),
        ),
        MailKind::EmailChangeRequested => (
            include_str!("templates/email_change_requested.txt"),
            include_str!("templates/email_change_requested.html"),
        ),
        MailKind::EmailChangeTaken => (
            include_str!("templates/email_change_taken.txt"),
            include_str!("templates/email_change_taken.html"),
        ),
    }
}

struct Template {
    subject: String,
    text: String,
    html: String,
}

/// A rendered message.
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every kind's template, loaded once at start.
pub struct Templates {
    by_kind: HashMap<&'static str, Template>,
}

impl Templates {
    /// The built-in templates, with any file of `dir` in place of its built-in one.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Templates> {
        let mut by_kind = HashMap::new();
        for kind in MailKind::ALL {
            let (text, html) = builtin(kind);
            let text = read_override(dir, kind, "txt")?.unwrap_or_else(|| text.to_owned());
            let html = read_override(dir, kind, "html")?.unwrap_or_else(|| html.to_owned());
            let file = format!("{}.txt", kind.as_str());
            let (subject, text) = split_subject(&text).with_context(|| {
                format!(
                    "mail_templates_dir: {file} must start with `Subject: ...` and a blank line"
                )
            })?;
            for source in [subject.as_str(), text.as_str(), html.as_str()] {
                check_placeholders(source).with_context(|| {
                    format!("mail_templates_dir: a template of {}", kind.as_str())
                })?;
            }
            by_kind.insert(
                kind.as_str(),
                Template {
                    subject,
                    text,
                    html,
                },
            );
        }
        Ok(Templates { by_kind })
    }

    /// `kind`'s message with the placeholders filled in.
    pub fn render(&self, kind: MailKind, values: &[(&str, &str)]) -> Option<Message> {
        let template = self.by_kind.get(kind.as_str())?;
        Some(Message {
            subject: fill(&template.subject, values, false),
            text: fill(&template.text, values, false),
            html: fill(&template.html, values, true),
        })
    }
}

fn read_override(dir: Option<&Path>, kind: MailKind, ext: &str) -> anyhow::Result<Option<String>> {
    let Some(dir) = dir else { return Ok(None) };
    let path = dir.join(format!("{}.{ext}", kind.as_str()));
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("mail_templates_dir: reading {}", path.display())),
    }
}

fn split_subject(text: &str) -> Option<(String, String)> {
    let text = text.trim_start_matches('\u{feff}');
    let (first, rest) = text.split_once('\n')?;
    let subject = first.strip_prefix("Subject:")?.trim();
    let body = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    (!subject.is_empty()).then(|| (subject.to_owned(), body.to_owned()))
}

fn check_placeholders(source: &str) -> anyhow::Result<()> {
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        let after = rest.get(start + 2..).unwrap_or("");
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow::anyhow!("a `{{{{` is never closed"))?;
        let name = after.get(..end).unwrap_or("").trim();
        if !KNOWN.contains(&name) {
            anyhow::bail!(
                "unknown placeholder {{{{{name}}}}} (known: {})",
                KNOWN.join(", ")
            );
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    Ok(())
}

fn fill(source: &str, values: &[(&str, &str)], html: bool) -> String {
    let mut out = String::with_capacity(source.len() + 128);
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find("}}") else {
            out.push_str(rest.get(start..).unwrap_or(""));
            return out;
        };
        let name = after.get(..end).unwrap_or("").trim();
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .map_or("", |(_, value)| *value);
        if html {
            out.push_str(&escape_html(value));
        } else {
            out.push_str(value);
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_builtin_template_loads_and_fills() {
        let templates = Templates::load(None).unwrap();
        for kind in MailKind::ALL {
            let message = templates
                .render(
                    kind,
                    &[
                        ("product", "Acme"),
                        ("username", "ada"),
                        ("link", "https://x/#token=T"),
                        ("code", "ABCD2345"),
                        ("valid_for", "30 minutes"),
                        ("reset_link", "https://x/r"),
                    ],
                )
                .unwrap();
            assert!(message.subject.contains("Acme"), "{}", kind.as_str());
            assert!(!message.text.contains("{{"), "{}", kind.as_str());
            assert!(!message.html.contains("{{"), "{}", kind.as_str());
        }
    }

    #[test]
    fn html_values_are_escaped_and_text_values_are_not() {
        let templates = Templates::load(None).unwrap();
        let message = templates
            .render(MailKind::PasswordChanged, &[("username", "<b>&")])
            .unwrap();
        assert!(message.html.contains("&lt;b&gt;&amp;"));
        assert!(message.text.contains("<b>&"));
    }

    #[test]
    fn a_file_in_the_templates_dir_replaces_the_builtin_one() {
        let dir = std::env::temp_dir().join(format!("lk-templates-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("password_reset.txt"),
            "Subject: Reset at {{product}}\n\nGo to {{link}}\n",
        )
        .unwrap();
        let templates = Templates::load(Some(&dir)).unwrap();
        let message = templates
            .render(
                MailKind::PasswordReset,
                &[("product", "Acme"), ("link", "L")],
            )
            .unwrap();
        assert_eq!(message.subject, "Reset at Acme");
        assert_eq!(message.text, "Go to L\n");
        assert!(
            message.html.contains("Choose a new password"),
            "the HTML stays built in"
        );
        std::fs::write(dir.join("totp_enabled.html"), "<p>{{secret}}</p>").unwrap();
        let refused = Templates::load(Some(&dir)).err().unwrap();
        assert!(
            format!("{refused:#}").contains("unknown placeholder"),
            "{refused:#}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
