//! What a client sent as `otp`: a code from the app, or a recovery code.

use super::key::DIGITS;
use super::recovery_codes::RecoveryCode;

/// What a client sent as `otp`: a code from the app, or a recovery code.
#[derive(Debug, PartialEq, Eq)]
pub enum PresentedOtp {
    Code(String),
    Recovery(RecoveryCode),
}

impl PresentedOtp {
    /// Apps show codes as `123 456`, so spaces are dropped. `None` for anything that is
    /// neither a code nor a recovery code.
    pub fn parse(raw: &str) -> Option<PresentedOtp> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() == usize::from(DIGITS) && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Some(PresentedOtp::Code(compact));
        }
        RecoveryCode::parse(raw).map(PresentedOtp::Recovery)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::secret::ExposeSecret as _;

    #[test]
    fn six_digits_are_a_code_with_the_spaces_apps_show_dropped() {
        for raw in ["123456", "123 456", " 123456\n"] {
            assert_eq!(
                PresentedOtp::parse(raw),
                Some(PresentedOtp::Code("123456".to_owned())),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn a_recovery_code_is_told_apart_from_a_code() {
        let code = RecoveryCode::generate();
        assert_eq!(
            PresentedOtp::parse(code.display().expose_secret()),
            Some(PresentedOtp::Recovery(code))
        );
    }

    #[test]
    fn anything_else_is_neither() {
        for raw in ["", "12345", "1234567", "12345a", "password", "+12345"] {
            assert_eq!(PresentedOtp::parse(raw), None, "{raw:?}");
        }
    }
}
