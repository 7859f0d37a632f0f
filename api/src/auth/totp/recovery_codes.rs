//! Recovery codes: single-use stand-ins for a lost authenticator app.
//!
//! Each is 80 random bits written as 16 characters of Crockford's base32 in groups of
//! four (`7k2m-q9xd-4hvb-0c3t`): lower case, no `i`, `l`, `o` or `u`, so nothing looks
//! like something else. Reading them back forgives what people do when typing: any case,
//! spaces or no hyphens, `i`/`l` for `1` and `o` for `0`. Only the SHA-256 of the
//! canonical form is stored: 80 random bits need no slow hash.

use std::fmt;

use subtle::ConstantTimeEq as _;

use crate::auth::secret::{ExposeSecret as _, SecretString, TokenHash};

/// Codes handed out when TOTP is turned on.
pub const COUNT: usize = 10;
/// Crockford's base32 alphabet, lower-cased.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters in a code: 16 x 5 bits = 80 bits.
const CHARS: usize = 16;
/// Characters between hyphens when shown.
const GROUP: usize = 4;
// At least 60 bits a code, or guessing one becomes thinkable.
const _: () = assert!(CHARS * 5 >= 60);

/// A recovery code in canonical form (16 characters, no hyphens). `Debug` never shows it;
/// equality is constant-time.
#[derive(Clone)]
pub struct RecoveryCode(SecretString);

impl PartialEq for RecoveryCode {
    fn eq(&self, other: &Self) -> bool {
        self.canonical()
            .as_bytes()
            .ct_eq(other.canonical().as_bytes())
            .into()
    }
}

impl Eq for RecoveryCode {}

impl RecoveryCode {
    pub fn generate() -> RecoveryCode {
        let bytes: [u8; CHARS] = rand::random();
        // 32 divides 256, so masking to 5 bits keeps every character equally likely.
        let code: String = bytes
            .iter()
            .filter_map(|b| ALPHABET.get(usize::from(b & 0x1f)))
            .map(|&c| char::from(c))
            .collect();
        RecoveryCode(code.into())
    }

    /// `None` for anything that cannot be a recovery code.
    pub fn parse(raw: &str) -> Option<RecoveryCode> {
        let canonical: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_lowercase() {
                'i' | 'l' => '1',
                'o' => '0',
                other => other,
            })
            .collect();
        let well_formed =
            canonical.len() == CHARS && canonical.bytes().all(|b| ALPHABET.contains(&b));
        let canonical = SecretString::from(canonical);
        well_formed.then_some(RecoveryCode(canonical))
    }

    fn canonical(&self) -> &str {
        self.0.expose_secret()
    }

    /// As shown to the user: groups of four joined by hyphens.
    pub fn display(&self) -> SecretString {
        let chars: Vec<char> = self.canonical().chars().collect();
        chars
            .chunks(GROUP)
            .map(String::from_iter)
            .collect::<Vec<_>>()
            .join("-")
            .into()
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.canonical())
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

/// A fresh set of `COUNT` distinct codes.
pub fn generate_set() -> Vec<RecoveryCode> {
    let mut codes: Vec<RecoveryCode> = Vec::with_capacity(COUNT);
    while codes.len() < COUNT {
        let code = RecoveryCode::generate();
        // A repeat among 80-bit codes will not happen; checking costs nothing.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_set_is_ten_distinct_codes_shown_in_four_groups_of_four() {
        let codes = generate_set();
        assert_eq!(codes.len(), COUNT);
        let shown: HashSet<String> = codes
            .iter()
            .map(|c| c.display().expose_secret().to_owned())
            .collect();
        assert_eq!(shown.len(), COUNT);
        for code in &shown {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 4, "{code}");
            assert!(groups.iter().all(|g| g.len() == 4), "{code}");
        }
    }

    #[test]
    fn a_code_carries_at_least_60_bits() {
        // 16 characters from a 32-letter alphabet (5 bits each), drawn uniformly.
        assert_eq!(ALPHABET.len(), 32);
        assert_eq!(ALPHABET.iter().collect::<HashSet<_>>().len(), 32);
        assert_eq!(RecoveryCode::generate().canonical().len(), CHARS);
    }

    #[test]
    fn a_shown_code_parses_back_however_it_is_typed() {
        let code = RecoveryCode::generate();
        let shown = code.display().expose_secret().to_owned();
        for typed in [
            shown.clone(),
            shown.to_uppercase(),
            shown.replace('-', ""),
            shown.replace('-', " "),
            format!("  {shown}\n"),
        ] {
            assert_eq!(RecoveryCode::parse(&typed), Some(code.clone()), "{typed:?}");
        }
    }

    #[test]
    fn look_alike_letters_read_as_the_digits_they_resemble() {
        assert_eq!(
            RecoveryCode::parse("IlO0-abcd-efgh-jkmn"),
            RecoveryCode::parse("1100-abcd-efgh-jkmn")
        );
        assert!(RecoveryCode::parse("1100-abcd-efgh-jkmn").is_some());
    }

    #[test]
    fn malformed_codes_do_not_parse() {
        for bad in [
            "",
            "123456",
            "abcd-efgh-jkmn",
            "abcd-efgh-jkmn-pqrs-t",
            "abcd-efgh-jkmn-pqru",
            "abcd-efgh-jkmn-pqr!",
            "abcd-efgh-jkmn-pqré",
        ] {
            assert!(RecoveryCode::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_hash_is_of_the_canonical_form() {
        let code = RecoveryCode::generate();
        let typed = RecoveryCode::parse(&code.display().expose_secret().to_uppercase()).unwrap();
        assert!(typed.hash().matches(&code.hash()));
        assert_eq!(code.hash(), TokenHash::of(code.canonical()));
    }

    #[test]
    fn debug_never_shows_the_code() {
        let code = RecoveryCode::generate();
        assert!(!format!("{code:?}").contains(code.canonical()));
    }
}
