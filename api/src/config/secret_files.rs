//! Every secret setting can instead name a file holding it (`database_url_file`,
//! `admin_password_file`, `smtp_url_file`), for secrets mounted by systemd's
//! `LoadCredential=`, Docker or Kubernetes rather than placed in the environment, where
//! every process of the same user can read them. (`smtp_password_file`,
//! `signing_key_file` and `secret_key_file` are files already.)

use super::raw::RawSettings;
use super::values::{ConfigError, invalid};

/// Reads each `*_file` into its setting. Setting both is refused (which one would win is
/// a guess an operator should not have to make); so is a file that cannot be read or
/// holds nothing. Trailing line ends are dropped, since editors and `echo` add one.
pub(super) fn apply(raw: &mut RawSettings) -> Result<(), ConfigError> {
    read_into(
        "database_url",
        "database_url_file",
        &mut raw.database_url,
        raw.database_url_file.as_deref(),
    )?;
    read_into(
        "admin_password",
        "admin_password_file",
        &mut raw.admin_password,
        raw.admin_password_file.as_deref(),
    )?;
    read_into(
        "smtp_url",
        "smtp_url_file",
        &mut raw.smtp_url,
        raw.smtp_url_file.as_deref(),
    )
}

fn read_into(
    key: &'static str,
    file_key: &'static str,
    value: &mut Option<String>,
    file: Option<&str>,
) -> Result<(), ConfigError> {
    let Some(path) = file.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    if value.is_some() {
        return Err(invalid(
            file_key,
            format!("cannot be set together with `{key}`: set one of them"),
        ));
    }
    // The error names the path and the reason, never any of the file's contents.
    let contents = std::fs::read_to_string(path)
        .map_err(|e| invalid(file_key, format!("cannot read {path}: {}", e.kind())))?;
    let secret = contents.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(invalid(file_key, format!("{path} is empty")));
    }
    *value = Some(secret.to_owned());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), contents).unwrap();
        file
    }

    #[test]
    fn each_secret_is_read_from_its_file_without_the_line_end() {
        let url = file("postgres://u:s3cret@db/latchkey\n");
        let password = file(" pass word \r\n");
        let smtp = file("smtps://u:p@mail.example");
        let mut raw = RawSettings {
            database_url_file: Some(url.path().display().to_string()),
            admin_password_file: Some(password.path().display().to_string()),
            smtp_url_file: Some(smtp.path().display().to_string()),
            ..RawSettings::default()
        };
        apply(&mut raw).unwrap();
        assert_eq!(
            raw.database_url.as_deref(),
            Some("postgres://u:s3cret@db/latchkey")
        );
        assert_eq!(raw.admin_password.as_deref(), Some(" pass word "));
        assert_eq!(raw.smtp_url.as_deref(), Some("smtps://u:p@mail.example"));
    }

    #[test]
    fn a_value_and_a_file_together_are_refused() {
        let password = file("x");
        let mut raw = RawSettings {
            admin_password: Some("y".into()),
            admin_password_file: Some(password.path().display().to_string()),
            ..RawSettings::default()
        };
        let err = apply(&mut raw).unwrap_err().to_string();
        assert!(
            err.contains("admin_password_file") && err.contains("`admin_password`"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_or_empty_file_is_named_without_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let mut raw = RawSettings {
            database_url_file: Some(missing.display().to_string()),
            ..RawSettings::default()
        };
        let err = apply(&mut raw).unwrap_err().to_string();
        assert!(
            err.contains("database_url_file") && err.contains("nope"),
            "{err}"
        );

        let empty = file("\n");
        let mut raw = RawSettings {
            smtp_url_file: Some(empty.path().display().to_string()),
            ..RawSettings::default()
        };
        let err = apply(&mut raw).unwrap_err().to_string();
        assert!(
            err.contains("smtp_url_file") && err.contains("empty"),
            "{err}"
        );
    }
}
