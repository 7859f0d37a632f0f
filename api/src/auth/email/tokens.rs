//! The secrets mails carry: a 256-bit token for the link, and for address verification
//! the same secret as a short code a person can type.
//!
//! The token is stored only as its SHA-256. The code is derived from the token (so the
//! mail holds one secret, in two forms) and stored as the SHA-256 of the account id and
//! the code: 8 characters of a 32-letter alphabet are 40 bits, too few to stand alone, so
//! a code is accepted only from the logged-in owner, and a few wrong codes void the token.

use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::auth::secret::{OpaqueSecret, TokenHash};

pub const VERIFY_PURPOSE: &str = "verify_email";
pub const RESET_PURPOSE: &str = "password_reset";
/// Confirms an email change; the token's `email` is the new address.
pub const EMAIL_CHANGE_PURPOSE: &str = "email_change";

/// Characters of a code: digits and capitals without 0, 1, I and O, which are misread.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const CODE_CHARS: usize = 8;
/// Wrong codes a token survives.
pub const MAX_CODE_FAILURES: i32 = 5;

/// A token just minted: the secret (for the mail) and what the database keeps.
pub struct MintedToken {
    pub token: OpaqueSecret,
    pub hash: TokenHash,
}

pub fn mint() -> MintedToken {
    let token = OpaqueSecret::generate("");
    let hash = token.hash();
    MintedToken { token, hash }
}

/// `None` for anything that cannot be a link token, so it is not looked up.
pub fn parse_token(raw: &str) -> Option<OpaqueSecret> {
    OpaqueSecret::parse("", raw.trim())
}

/// The code shown beside the link: derived from the token.
pub fn code_of(token: &OpaqueSecret) -> String {
    let digest = Sha256::digest(format!("latchkey-email-code:{}", token.expose()).as_bytes());
    let mut bits: u64 = 0;
    for byte in digest.iter().take(5) {
        bits = (bits << 8) | u64::from(*byte);
    }
    (0..CODE_CHARS)
        .rev()
        .map(|i| {
            let index = usize::try_from((bits >> (i * 5)) & 31).unwrap_or(0);
            char::from(CODE_ALPHABET.get(index).copied().unwrap_or(b'2'))
        })
        .collect()
}

/// A typed code as compared: upper case, spaces and dashes dropped. `None` if it cannot
/// be a code.
pub fn normalise_code(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_CHARS && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// What the database keeps of a code: bound to the account, so equal codes of two
/// accounts do not share a hash.
pub fn code_hash(user_id: Uuid, code: &str) -> TokenHash {
    TokenHash::of(&format!("{user_id}:{code}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_parse_back() {
        let minted = mint();
        assert_eq!(minted.token.expose().len(), 43);
        let parsed = parse_token(minted.token.expose()).unwrap();
        assert!(parsed.hash().matches(&minted.hash));
        assert!(parse_token("short").is_none());
    }

    #[test]
    fn the_code_is_eight_unambiguous_characters_derived_from_the_token() {
        let minted = mint();
        let code = code_of(&minted.token);
        assert_eq!(code.len(), CODE_CHARS);
        assert!(!code.contains(['0', '1', 'I', 'O']), "{code}");
        assert_eq!(code, code_of(&minted.token));
        assert_ne!(code, code_of(&mint().token));
        let typed = format!("{}-{}", &code[..4], code[4..].to_lowercase());
        assert_eq!(normalise_code(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(normalise_code("ABCD"), None);
        assert_eq!(normalise_code("0OOOOOOO"), None);
    }

    #[test]
    fn code_hashes_are_bound_to_the_account() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_ne!(code_hash(a, "ABCDEFGH"), code_hash(b, "ABCDEFGH"));
    }
}
