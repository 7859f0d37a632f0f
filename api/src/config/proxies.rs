//! `trusted_proxies` and `forwarded_header`: whose word about the client's address is
//! believed, and in which header (see `http/forwarded.rs` and docs/security.md).

use std::net::IpAddr;

use ipnet::IpNet;

use super::values::{ConfigError, invalid};

/// Which header carries the chain of addresses; the other is ignored, since a proxy that
/// writes one passes the other through as the client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// `Forwarded: for=client;proto=https, for="[2001:db8::1]:4711"` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// A comma-separated list of CIDR blocks (`10.0.0.0/8`, `fd00::/8`) or single addresses.
pub(super) fn parse_trusted(value: &str) -> Result<Vec<IpNet>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    invalid(
                        "trusted_proxies",
                        format!("`{item}` is not an address or a CIDR block like 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

pub(super) fn parse_header(value: &str) -> Result<ForwardedHeader, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
        "forwarded" => Ok(ForwardedHeader::Forwarded),
        _ => Err(invalid(
            "forwarded_header",
            "must be `x-forwarded-for` or `forwarded`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_single_addresses_are_read() {
        let nets = parse_trusted(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,,::1").unwrap();
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "::1/128"]);
        assert!(parse_trusted("").unwrap().is_empty());
    }

    #[test]
    fn a_bad_block_is_named() {
        for bad in ["10.0.0.0/33", "proxy.example", "10.0.0.0/8;"] {
            let err = parse_trusted(bad).unwrap_err().to_string();
            assert!(
                err.contains("trusted_proxies") && err.contains(bad.trim()),
                "{err}"
            );
        }
        assert!(parse_header("x-real-ip").is_err());
        assert_eq!(
            parse_header("Forwarded").unwrap(),
            ForwardedHeader::Forwarded
        );
    }
}
