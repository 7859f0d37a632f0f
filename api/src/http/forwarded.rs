//! The client's address behind reverse proxies: `X-Forwarded-For` or `Forwarded`
//! (RFC 7239), believed only from a trusted peer, read right to left.
//!
//! Each proxy appends the address it received the request from, so the right end of the
//! chain was written by our own proxies and the left end by whoever sent the request
//! first, who may write anything. Walking from the right, every hop that is a trusted
//! proxy is skipped; the first address that is not one is the client. Anything to its left
//! is the client's own claim and is never looked at.
//!
//! Malformed input never yields an address nobody vouched for. A hop that cannot be read
//! (garbage, `unknown`, an obfuscated `_name`, a `Forwarded` element without `for=`, an
//! unterminated quote) ends the walk, and the client is the last address a trusted hop
//! reported, which is the peer itself when the very first hop from the right is unusable.
//! An empty list element carries nothing and is skipped. When every hop is trusted, the
//! leftmost is the client (a client inside a trusted network).

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

pub use crate::config::ForwardedHeader;

/// One hop of the chain as a proxy reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Address(IpAddr),
    /// Present but not an address we can use (see the module comment).
    Unusable,
}

/// The client's address: `peer` itself unless `peer` is in `trusted`, else what the
/// `header` lines (`values`, in the order they arrived) say, as the module comment
/// describes. IPv4-mapped IPv6 addresses are read as the IPv4 address they carry.
pub fn client_address(
    peer: IpAddr,
    trusted: &[IpNet],
    header: ForwardedHeader,
    values: &[&str],
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<Hop> = match header {
        ForwardedHeader::XForwardedFor => values
            .iter()
            .flat_map(|line| line.split(','))
            .filter(|item| !item.trim().is_empty())
            .map(|item| node(item.trim()))
            .collect(),
        ForwardedHeader::Forwarded => values.iter().flat_map(|line| elements(line)).collect(),
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Hop::Address(ip) if is_trusted(ip) => client = ip,
            Hop::Address(ip) => return ip,
            Hop::Unusable => return client,
        }
    }
    client
}

/// A node as a proxy writes it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`. Anything else (`unknown`, `_hidden`, garbage)
/// is unusable.
fn node(text: &str) -> Hop {
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<IpAddr>().ok())
        });
    match ip {
        Some(ip) => Hop::Address(ip.to_canonical()),
        None => Hop::Unusable,
    }
}

/// The hops of one `Forwarded` line: one per non-empty element, from its `for=`.
fn elements(line: &str) -> Vec<Hop> {
    split_outside_quotes(line, ',')
        .into_iter()
        .filter_map(|element| match element {
            Some(text) if text.trim().is_empty() => None,
            Some(text) => Some(element_hop(text)),
            None => Some(Hop::Unusable),
        })
        .collect()
}

/// The `for=` of one element (`for=...;proto=...;by=...`): unusable when the element
/// does not parse, has no `for`, or has two.
fn element_hop(element: &str) -> Hop {
    let mut found = None;
    for pair in split_outside_quotes(element, ';') {
        let Some(pair) = pair else {
            return Hop::Unusable;
        };
        let Some((name, value)) = pair.split_once('=') else {
            return Hop::Unusable;
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Hop::Unusable;
        }
        let Some(value) = parameter_value(value.trim()) else {
            return Hop::Unusable;
        };
        if name.eq_ignore_ascii_case("for") {
            if found.is_some() {
                return Hop::Unusable;
            }
            found = Some(node(&value));
        }
    }
    found.unwrap_or(Hop::Unusable)
}

/// A parameter's value: a token, or a quoted string with its escapes undone. Bare
/// values are read leniently (`:` and brackets allowed), since some proxies leave a
/// port or an IPv6 address unquoted.
fn parameter_value(text: &str) -> Option<String> {
    let Some(quoted) = text.strip_prefix('"') else {
        let bare = !text.is_empty()
            && text
                .bytes()
                .all(|b| is_tchar(b) || matches!(b, b':' | b'[' | b']'));
        return bare.then(|| text.to_owned());
    };
    let mut value = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(value),
            c => value.push(c),
        }
    }
    None // no closing quote
}

/// `text` split at `sep` where it is not inside a quoted string; an item holding an
/// unterminated quote is `None` (and is the last item: the quote runs to the end).
fn split_outside_quotes(text: &str, sep: char) -> Vec<Option<&str>> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            items.push(text.get(start..i));
            start = i + c.len_utf8();
        }
    }
    items.push(if in_quotes { None } else { text.get(start..) });
    items
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
#[path = "forwarded_tests.rs"]
mod tests;
