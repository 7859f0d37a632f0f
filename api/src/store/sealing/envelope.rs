//! The text a sealed value is stored as:
//!
//! ```text
//! sealed:v1:<key id>:<base64url of nonce (24 bytes) then ciphertext and tag>
//! ```
//!
//! XChaCha20-Poly1305 with a random 192-bit nonce per value (random nonces that long never
//! repeat in practice, so no counter has to be kept across instances). The associated
//! data binds the value to its place (table, column and row id) and to the envelope's own
//! header, so a sealed value copied to another row, column or table, or relabelled with
//! another key id, does not open.
//!
//! The version names this layout and algorithm; the key id names the key, so a rotation
//! can tell old values from new without trying keys. A value without the `sealed:` prefix
//! is plain: base32 TOTP secrets and base64 PKCS#8 keys never contain a `:`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead as _, Payload};
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use super::key::{KeyId, SealingKey};

/// What every sealed value starts with.
pub const SEALED_PREFIX: &str = "sealed:";
/// The only layout so far.
const VERSION: &str = "v1";
const NONCE_BYTES: usize = 24;

/// Where a value is stored: the associated data it is sealed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub table: &'static str,
    pub column: &'static str,
    /// The row's primary key, as text.
    pub row: String,
}

/// A stored value as read: plain, or sealed by the named key.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored<'a> {
    Plain,
    Sealed { key_id: KeyId, body: &'a str },
}

/// Why a value could not be sealed or opened. Never holds any part of the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// Only for messages longer than XChaCha20's stream (256 GiB); a secret is a few
    /// dozen bytes.
    #[error("the cipher refused to seal")]
    Encrypt,
    #[error("sealed in an unknown format (not `sealed:v1:<key id>:...`)")]
    Malformed,
    #[error("sealed with key {found}, but no `secret_key_file` is set")]
    NoKey { found: String },
    #[error("sealed with key {found}, but `secret_key_file` holds key {configured}")]
    OtherKey { found: String, configured: String },
    /// The right key, and still the tag does not verify: the value was altered, or copied
    /// from another row or column.
    #[error("sealed value does not open with key {key_id}: altered, or moved from another row")]
    Tampered { key_id: String },
}

/// Reads the header of a stored value.
pub fn classify(stored: &str) -> Result<Stored<'_>, SealError> {
    let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(Stored::Plain);
    };
    let mut parts = rest.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(id), Some(body)) => Ok(Stored::Sealed {
            key_id: KeyId::parse(id).ok_or(SealError::Malformed)?,
            body,
        }),
        _ => Err(SealError::Malformed),
    }
}

fn header(key_id: &KeyId) -> String {
    format!("{SEALED_PREFIX}{VERSION}:{key_id}:")
}

/// The associated data: the envelope's header, then the place, each part ended by a NUL
/// (no part can contain one), so no two places share it.
fn associated_data(key_id: &KeyId, place: &Place) -> Vec<u8> {
    let mut aad = header(key_id).into_bytes();
    for part in [place.table, place.column, place.row.as_str()] {
        aad.extend_from_slice(part.as_bytes());
        aad.push(0);
    }
    aad
}

/// Seals `plain` for `place` under `key`.
pub fn seal(
    key: &SealingKey,
    place: &Place,
    plain: &SecretString,
) -> Result<SecretString, SealError> {
    let nonce: [u8; NONCE_BYTES] = rand::random();
    let aad = associated_data(key.id(), place);
    let sealed = key
        .cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain.expose_secret().as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| SealError::Encrypt)?;
    let mut body = nonce.to_vec();
    body.extend_from_slice(&sealed);
    Ok(format!("{}{}", header(key.id()), URL_SAFE_NO_PAD.encode(body)).into())
}

/// Opens a value sealed for `place`; a plain value comes back as it is. `key` is the
/// configured key, if any.
pub fn open(
    key: Option<&SealingKey>,
    place: &Place,
    stored: &str,
) -> Result<SecretString, SealError> {
    let (key_id, body) = match classify(stored)? {
        Stored::Plain => return Ok(stored.into()),
        Stored::Sealed { key_id, body } => (key_id, body),
    };
    let key = key.ok_or_else(|| SealError::NoKey {
        found: key_id.to_string(),
    })?;
    if *key.id() != key_id {
        return Err(SealError::OtherKey {
            found: key_id.to_string(),
            configured: key.id().to_string(),
        });
    }
    let tampered = || SealError::Tampered {
        key_id: key_id.to_string(),
    };
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| tampered())?;
    let (nonce, ciphertext) = bytes.split_at_checked(NONCE_BYTES).ok_or_else(tampered)?;
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| tampered())?;
    let aad = associated_data(&key_id, place);
    let plain = Zeroizing::new(
        key.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| tampered())?,
    );
    let text = std::str::from_utf8(&plain).map_err(|_| tampered())?;
    Ok(text.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    fn place(row: &str) -> Place {
        Place {
            table: "totp",
            column: "secret",
            row: row.to_owned(),
        }
    }

    fn secret() -> SecretString {
        SECRET.into()
    }

    #[test]
    fn a_sealed_value_names_its_key_hides_the_secret_and_opens_in_its_place() {
        let key = SealingKey::generate();
        let sealed = seal(&key, &place("row-1"), &secret()).unwrap();
        let text = sealed.expose_secret();
        assert!(
            text.starts_with(&format!("sealed:v1:{}:", key.id())),
            "{text}"
        );
        assert!(!text.contains(SECRET));
        let opened = open(Some(&key), &place("row-1"), text).unwrap();
        assert_eq!(opened.expose_secret(), SECRET);
        assert_eq!(
            classify(text).unwrap(),
            Stored::Sealed {
                key_id: key.id().clone(),
                body: text.rsplit(':').next().unwrap(),
            }
        );
    }

    #[test]
    fn sealing_twice_gives_two_texts() {
        let key = SealingKey::generate();
        let one = seal(&key, &place("row-1"), &secret()).unwrap();
        let two = seal(&key, &place("row-1"), &secret()).unwrap();
        assert_ne!(one.expose_secret(), two.expose_secret());
    }

    #[test]
    fn a_sealed_value_moved_to_another_row_column_or_table_does_not_open() {
        let key = SealingKey::generate();
        let sealed = seal(&key, &place("row-1"), &secret()).unwrap();
        let text = sealed.expose_secret();
        let tampered = Err(SealError::Tampered {
            key_id: key.id().to_string(),
        });
        assert_eq!(
            open(Some(&key), &place("row-2"), text).map(|_| ()),
            tampered
        );
        let other_column = Place {
            column: "private_key",
            ..place("row-1")
        };
        assert_eq!(open(Some(&key), &other_column, text).map(|_| ()), tampered);
        let other_table = Place {
            table: "signing_keys",
            ..place("row-1")
        };
        assert_eq!(open(Some(&key), &other_table, text).map(|_| ()), tampered);
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let key = SealingKey::generate();
        let sealed = seal(&key, &place("row-1"), &secret()).unwrap();
        let text = sealed.expose_secret();
        let (head, body) = text.rsplit_once(':').unwrap();
        let mut chars: Vec<char> = body.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let altered = format!("{head}:{}", chars.into_iter().collect::<String>());
        assert!(matches!(
            open(Some(&key), &place("row-1"), &altered),
            Err(SealError::Tampered { .. })
        ));
        let truncated = format!("{head}:AAAA");
        assert!(matches!(
            open(Some(&key), &place("row-1"), &truncated),
            Err(SealError::Tampered { .. })
        ));
    }

    #[test]
    fn a_value_relabelled_with_another_key_id_does_not_open() {
        let key = SealingKey::generate();
        let other = SealingKey::generate();
        let sealed = seal(&key, &place("row-1"), &secret()).unwrap();
        let text = sealed.expose_secret();
        let relabelled = text.replace(key.id().as_str(), other.id().as_str());
        assert!(matches!(
            open(Some(&other), &place("row-1"), &relabelled),
            Err(SealError::Tampered { .. })
        ));
    }

    #[test]
    fn another_key_or_no_key_is_named_not_tried() {
        let key = SealingKey::generate();
        let other = SealingKey::generate();
        let sealed = seal(&key, &place("row-1"), &secret()).unwrap();
        let text = sealed.expose_secret();
        assert_eq!(
            open(Some(&other), &place("row-1"), text).map(|_| ()),
            Err(SealError::OtherKey {
                found: key.id().to_string(),
                configured: other.id().to_string(),
            })
        );
        assert_eq!(
            open(None, &place("row-1"), text).map(|_| ()),
            Err(SealError::NoKey {
                found: key.id().to_string(),
            })
        );
    }

    #[test]
    fn plain_values_pass_through_and_unknown_formats_are_refused() {
        let key = SealingKey::generate();
        assert_eq!(classify(SECRET).unwrap(), Stored::Plain);
        assert_eq!(
            open(Some(&key), &place("row-1"), SECRET)
                .unwrap()
                .expose_secret(),
            SECRET
        );
        for bad in [
            "sealed:",
            "sealed:v2:0011223344556677:AAAA",
            "sealed:v1:XYZ:AAAA",
            "sealed:v1:0011",
        ] {
            assert_eq!(classify(bad), Err(SealError::Malformed), "{bad}");
        }
    }

    #[test]
    fn errors_never_show_the_secret() {
        let key = SealingKey::generate();
        let sealed = seal(&key, &place("row-1"), &secret()).unwrap();
        let error = open(Some(&key), &place("row-2"), sealed.expose_secret())
            .err()
            .unwrap();
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains(SECRET) && !text.contains(sealed.expose_secret()),
            "{text}"
        );
    }
}
