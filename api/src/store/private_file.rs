//! Files that hold secrets are the owner's alone: the SQLite database (with its `-wal` and
//! `-shm` companions, which hold recent pages) and the signing key file.
//!
//! A file Latchkey creates is created `0600`; SQLite gives its companions the database
//! file's own mode. A file that exists and that other users can read stops the start,
//! naming the file and the fix: silently tightening it would hide that it was exposed.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The SQLite database file a URL names, if it names one (not `:memory:`).
pub fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty()
        || path == ":memory:"
        || options.split('&').any(|option| option == "mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

/// Refuses a database whose files others can read; creates a missing one `0600` (when
/// the URL allows creating it), so SQLite's companions are `0600` too.
pub fn prepare_sqlite(database_url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_path(database_url) else {
        return Ok(());
    };
    if path.exists() {
        for companion in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(companion);
            let file = PathBuf::from(file);
            if file.exists() {
                refuse_if_shared(&file, "database_url")?;
            }
        }
        return Ok(());
    }
    if database_url.contains("mode=rwc") {
        create_private(&path)?;
    }
    Ok(())
}

/// Fails, naming `setting`, the file and the fix, when users other than the owner may read
/// or write `path`.
pub fn refuse_if_shared(path: &Path, setting: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .with_context(|| {
                format!(
                    "invalid setting `{setting}`: cannot read {}",
                    path.display()
                )
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "invalid setting `{setting}`: {} holds secrets but other users may read it \
                 (mode {:o}); make it the owner's alone: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    Ok(())
}

fn create_private(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Created meanwhile by another process starting at the same moment.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the database file {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file_and_memory_names_none() {
        assert_eq!(
            sqlite_path("sqlite://latchkey.db?mode=rwc"),
            Some(PathBuf::from("latchkey.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/latchkey/db.sqlite"),
            Some(PathBuf::from("/var/lib/latchkey/db.sqlite"))
        );
        assert_eq!(
            sqlite_path("sqlite:data.db"),
            Some(PathBuf::from("data.db"))
        );
        for none in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://x.db?mode=memory",
            "postgres://h/db",
        ] {
            assert_eq!(sqlite_path(none), None, "{none}");
        }
    }
}
