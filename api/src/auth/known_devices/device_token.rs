//! The device cookie's value: 256 random bits behind the `lkd_` prefix, shown to the
//! browser once per login and stored only as its SHA-256, like every opaque secret here
//! (`auth::secret`). It proves nothing by itself: it only selects which failure count a
//! login from that browser is judged by; the password is checked as always.

use crate::auth::secret::{OpaqueSecret, TokenHash};

/// The type prefix of device tokens.
pub const PREFIX: &str = "lkd_";

/// A device token in the clear. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeviceToken(OpaqueSecret);

impl DeviceToken {
    pub fn generate() -> DeviceToken {
        DeviceToken(OpaqueSecret::generate(PREFIX))
    }

    /// `None` for anything that cannot be a device token (garbled, truncated, another
    /// kind of secret), so it is not even looked up.
    pub fn parse(raw: &str) -> Option<DeviceToken> {
        OpaqueSecret::parse(PREFIX, raw.trim()).map(DeviceToken)
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn hash(&self) -> TokenHash {
        self.0.hash()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn device_tokens_parse_back_and_nothing_else_does() {
        let token = DeviceToken::generate();
        assert!(token.expose().starts_with(PREFIX));
        assert_eq!(DeviceToken::parse(token.expose()), Some(token.clone()));
        let body = token.expose().strip_prefix(PREFIX).unwrap();
        for bad in [
            "",
            body,
            &format!("lk_{body}"),
            &format!("{PREFIX}{}", &body[1..]),
            &format!("{PREFIX}{body}x"),
            &format!("{PREFIX}{}!", &body[1..]),
        ] {
            assert!(DeviceToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = DeviceToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
