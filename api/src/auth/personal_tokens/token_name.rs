//! The name a user gives a personal token ("CI deploy").

use crate::auth::error::AuthError;

/// Longest name, in characters.
const NAME_MAX_CHARS: usize = 100;

/// A trimmed, bounded name without control characters.
pub fn parse_token_name(raw: &str) -> Result<String, AuthError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err(AuthError::bad_input("name", "must not be empty"));
    }
    if chars > NAME_MAX_CHARS {
        return Err(AuthError::bad_input(
            "name",
            format!("must be at most {NAME_MAX_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AuthError::bad_input(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(parse_token_name("  CI deploy ").unwrap(), "CI deploy");
        assert_eq!(
            parse_token_name(&"é".repeat(100)).unwrap().chars().count(),
            100
        );
        for bad in ["", "   ", &"é".repeat(101), "tab\there", "nul\0"] {
            assert!(
                matches!(
                    parse_token_name(bad),
                    Err(AuthError::BadInput { field: "name", .. })
                ),
                "{bad:?}"
            );
        }
    }
}
