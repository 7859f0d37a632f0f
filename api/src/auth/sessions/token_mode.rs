//! How a session delivers its tokens: chosen at login, kept on the session so `refresh`
//! without a mode answers the same way.

/// Where the tokens travel (API.md "TokenMode"): JSON in the body, the refresh token in a
/// cookie, or both in cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenMode {
    #[default]
    Json,
    Cookie,
    Session,
}

impl TokenMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenMode::Json => "json",
            TokenMode::Cookie => "cookie",
            TokenMode::Session => "session",
        }
    }

    pub fn from_stored(value: &str) -> TokenMode {
        match value {
            "cookie" => TokenMode::Cookie,
            "session" => TokenMode::Session,
            _ => TokenMode::Json,
        }
    }
}
