//! The key that seals secrets at rest: 32 random bytes, kept in a file of its own
//! (`secret_key_file`) as 64 hexadecimal characters on one line.
//!
//! Hex rather than raw bytes: the file can be inspected, copied into a secret store and
//! written by `openssl rand -hex 32` without a question of encodings, and a trailing
//! newline or a truncated copy is told apart from a key. The file must be the owner's
//! alone (`0600`), like the signing key file.
//!
//! Every key has an id, derived from the key by a hash, that the sealed values carry:
//! it tells which key sealed a value (so rotation can tell old from new, and a start with
//! another key is refused by name) and reveals nothing of the key.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::store::private_file::refuse_if_shared;

/// Bytes in a key.
pub const KEY_BYTES: usize = 32;
/// Hex characters of a key id: 64 bits of a hash, enough to tell keys apart.
const ID_CHARS: usize = 16;
/// What the key id hashes besides the key, so the id is no hash of the key in any other use.
const ID_DOMAIN: &[u8] = b"latchkey secret key id v1\0";

/// A sealing key. `Debug` shows its id only; the key bytes live inside the cipher, which
/// wipes them when dropped.
pub struct SealingKey {
    id: KeyId,
    pub(super) cipher: XChaCha20Poly1305,
}

/// The public name of a key: 16 lowercase hex characters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KeyId(String);

impl KeyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `None` unless `text` has the shape of a key id.
    pub fn parse(text: &str) -> Option<KeyId> {
        let well_formed = text.len() == ID_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| KeyId(text.to_owned()))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SealingKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> SealingKey {
        SealingKey::from_bytes(&Zeroizing::new(rand::random()))
    }

    fn from_bytes(bytes: &Zeroizing<[u8; KEY_BYTES]>) -> SealingKey {
        let mut hash = Sha256::new();
        hash.update(ID_DOMAIN);
        hash.update(bytes.as_slice());
        let id: String = hash
            .finalize()
            .iter()
            .take(ID_CHARS / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        SealingKey {
            id: KeyId(id),
            cipher: XChaCha20Poly1305::new(&(**bytes).into()),
        }
    }

    /// The key in a file's text: 64 hex characters, surrounding whitespace ignored.
    /// The error says what is wrong with the text, never what it holds.
    pub fn parse(text: &SecretString) -> anyhow::Result<SealingKey> {
        let hex = text.expose_secret().trim();
        if hex.len() != KEY_BYTES * 2 {
            anyhow::bail!(
                "expected 64 hexadecimal characters (32 random bytes), found {} characters; \
                 make one with `latchkey keys seal-init`",
                hex.chars().count()
            );
        }
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).ok();
            *byte = pair
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .context("expected hexadecimal characters only (0-9, a-f)")?;
        }
        Ok(SealingKey::from_bytes(&bytes))
    }

    /// The key in `path`, which must be the owner's alone. `setting` names where the path
    /// came from, for the messages.
    pub fn from_file(path: &Path, setting: &str) -> anyhow::Result<SealingKey> {
        refuse_if_shared(path, setting)?;
        let text = std::fs::read(path)
            .map(|bytes| SecretString::from(String::from_utf8_lossy(&bytes).into_owned()))
            .with_context(|| {
                format!(
                    "invalid setting `{setting}`: cannot read {}",
                    path.display()
                )
            })?;
        SealingKey::parse(&text)
            .with_context(|| format!("invalid setting `{setting}`: {}", path.display()))
    }

    /// Writes a fresh key to `path`, created `0600`; refuses to replace an existing file
    /// (it may be the key that sealed a database). Returns the new key.
    pub fn create_file(path: &Path) -> anyhow::Result<SealingKey> {
        let bytes = Zeroizing::new(rand::random::<[u8; KEY_BYTES]>());
        let text: Zeroizing<String> = Zeroizing::new(
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .chain(std::iter::once("\n".to_owned()))
                .collect(),
        );
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} already exists: it may be the key that sealed a database, so it is \
                     not replaced; choose another path with --out",
                    path.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("creating {}", path.display()))
            }
        })?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(SealingKey::from_bytes(&bytes))
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id.as_str())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_key_is_64_hex_characters_and_surrounding_whitespace_is_ignored() {
        let key = SealingKey::parse(&format!("  {HEX}\n").into()).unwrap();
        let upper = SealingKey::parse(&HEX.to_uppercase().into()).unwrap();
        assert_eq!(key.id(), upper.id());
        assert_eq!(key.id().as_str().len(), 16);
        assert!(KeyId::parse(key.id().as_str()).is_some());
    }

    #[test]
    fn malformed_keys_are_refused_without_showing_them() {
        for bad in [
            "",
            &HEX[..62],
            &format!("{HEX}00"),
            &format!("{}zz", &HEX[..62]),
            &"é".repeat(32),
        ] {
            let error = format!(
                "{:#}",
                SealingKey::parse(&bad.to_owned().into()).err().unwrap()
            );
            assert!(error.contains("hexadecimal"), "{error}");
            if bad.len() > 8 {
                assert!(!error.contains(&bad[..8]), "{error}");
            }
        }
    }

    #[test]
    fn the_id_depends_on_the_key_and_is_no_part_of_it() {
        let one = SealingKey::parse(&HEX.into()).unwrap();
        let other = SealingKey::generate();
        assert_ne!(one.id(), other.id());
        assert!(!HEX.contains(one.id().as_str()));
    }

    #[test]
    fn debug_shows_the_id_only() {
        let key = SealingKey::parse(&HEX.into()).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(key.id().as_str()), "{debug}");
        assert!(!debug.contains("0102030405"), "{debug}");
    }

    #[cfg(unix)]
    #[test]
    fn a_created_key_file_is_the_owners_alone_reads_back_and_is_never_replaced() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let created = SealingKey::create_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let read = SealingKey::from_file(&path, "secret_key_file").unwrap();
        assert_eq!(read.id(), created.id());
        let before = std::fs::read(&path).unwrap();
        let again = SealingKey::create_file(&path).err().unwrap().to_string();
        assert!(again.contains("already exists"), "{again}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_naming_the_setting_and_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, HEX).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let error = format!(
            "{:#}",
            SealingKey::from_file(&path, "secret_key_file")
                .err()
                .unwrap()
        );
        assert!(error.contains("secret_key_file"), "{error}");
        assert!(error.contains("chmod 600"), "{error}");
        assert!(!error.contains(HEX), "{error}");
    }
}
