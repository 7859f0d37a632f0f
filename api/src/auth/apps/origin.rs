//! Browser origins as Latchkey compares them: the `Origin` header of a request, an app's
//! allowed origins and the `cors_origins` setting all go through [`Origin::parse`], so one
//! spelling of an origin is never refused where another is allowed.

use std::fmt;

/// A browser origin, `scheme://host[:port]`, as browsers send it in the `Origin` header:
/// `http` or `https`, lower-cased, no path, query or fragment, no default port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

/// Why a text is not an [`Origin`]; names the text, which is never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{origin}` is not an origin like https://app.example.com: {reason}")]
pub struct InvalidOrigin {
    origin: String,
    reason: &'static str,
}

impl Origin {
    /// Parses and normalises an origin: `HTTPS://App.Example.com:443` and
    /// `https://app.example.com/` are both `https://app.example.com`. `*` and `null` are
    /// refused: the first would allow everyone, the second is what sandboxed frames and
    /// `file:` pages send, so anyone can produce it.
    pub fn parse(raw: &str) -> Result<Origin, InvalidOrigin> {
        let text = raw.trim();
        let fail = |reason| InvalidOrigin {
            origin: text.to_owned(),
            reason,
        };
        if text == "*" {
            return Err(fail("`*` would allow every site: list each origin"));
        }
        if text.eq_ignore_ascii_case("null") {
            return Err(fail(
                "`null` is sent by sandboxed and local pages, so anyone can send it",
            ));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| fail("it needs a scheme, http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(fail("the scheme must be http or https")),
        };
        // A lone trailing slash (copied from an address bar) is the empty path: dropped.
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(fail("an origin has no path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(fail("an origin has no user name or password"));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| fail("the host is missing or malformed"))?;
        let port = match port {
            None => None,
            Some(digits) => {
                let number = digits
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0 && digits.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| fail("the port must be a number from 1 to 65535"))?;
                (number != default_port).then_some(number)
            }
        };
        let host = host.to_ascii_lowercase();
        Ok(Origin(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `host[:port]` or `[ipv6][:port]`, each part checked for the characters it may hold.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']')?;
        let valid = !inside.is_empty()
            && inside.contains(':')
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !valid {
            return None;
        }
        let host = authority.get(..inside.len() + 2)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let valid = !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !valid {
            return None;
        }
        (host, port)
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn origin(raw: &str) -> String {
        Origin::parse(raw).unwrap().as_str().to_owned()
    }

    #[test]
    fn origins_are_lower_cased_and_lose_default_ports_and_a_trailing_slash() {
        assert_eq!(origin("HTTPS://App.Example.COM"), "https://app.example.com");
        assert_eq!(
            origin("https://app.example.com:443"),
            "https://app.example.com"
        );
        assert_eq!(origin("http://localhost:80/"), "http://localhost");
        assert_eq!(origin("http://localhost:3000"), "http://localhost:3000");
        assert_eq!(
            origin("https://a.example.com:80"),
            "https://a.example.com:80"
        );
        assert_eq!(origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin("http://[::1]:5173"), "http://[::1]:5173");
        assert_eq!(origin("https://[2001:DB8::1]"), "https://[2001:db8::1]");
        assert_eq!(origin("  https://a.example.com  "), "https://a.example.com");
    }

    #[test]
    fn wildcards_null_other_schemes_and_anything_after_the_host_are_refused() {
        for bad in [
            "*",
            "null",
            "NULL",
            "",
            "app.example.com",
            "ftp://a.example.com",
            "file:///etc/passwd",
            "https://",
            "https://a.example.com/app",
            "https://a.example.com//",
            "https://a.example.com?x=1",
            "https://a.example.com#top",
            "https://user@a.example.com",
            "https://a.example.com:",
            "https://a.example.com:0",
            "https://a.example.com:65536",
            "https://a.example.com:+80",
            "https://a.example.com:8080:1",
            "https://a example.com",
            "https://*.example.com",
            "https://[::1",
            "https://[zz::1]",
            "https://.example.com",
            "https://bücher.example",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn an_invalid_origin_names_itself_and_the_reason() {
        let err = Origin::parse("https://a.example.com/app")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`https://a.example.com/app`"), "{err}");
        assert!(err.contains("no path"), "{err}");
        let err = Origin::parse("*").unwrap_err().to_string();
        assert!(err.contains("list each origin"), "{err}");
    }
}
