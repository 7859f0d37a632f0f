//! Where an endpoint may point: an `http` or `https` URL with a host, no credentials, no
//! fragment, and (unless `webhook_allow_private_targets` is on) no address the public
//! internet cannot reach.
//!
//! A webhook URL is a request the server makes on an operator's word; if it could name
//! `127.0.0.1:5432`, `169.254.169.254` (cloud metadata) or a host on the private network,
//! whoever can register an endpoint could probe what only the server reaches (SSRF). The
//! check is made here for literal addresses and `localhost`, and again by the delivery
//! client's resolver for every address a host name resolves to at delivery time, so a
//! name that resolves to a private address later (DNS rebinding) is refused as well.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::WebhookError;

/// The longest URL accepted.
pub const URL_MAX_BYTES: usize = 2048;

/// A checked endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

impl EndpointUrl {
    pub fn parse(raw: &str, allow_private: bool) -> Result<EndpointUrl, WebhookError> {
        let raw = raw.trim();
        let fail = |why: &str| WebhookError::InvalidUrl(why.to_owned());
        if raw.len() > URL_MAX_BYTES {
            return Err(fail("longer than 2048 bytes"));
        }
        let url = url::Url::parse(raw).map_err(|e| fail(&format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail("only http:// and https:// URLs are allowed"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // They would be shown by `webhook list` and logged with delivery errors; a
            // receiver authenticates the sender by the signature instead.
            return Err(fail("credentials in the URL are not allowed"));
        }
        if url.fragment().is_some() {
            return Err(fail("a URL with a #fragment is not allowed"));
        }
        let host = match url.host() {
            Some(host) => host,
            None => return Err(fail("the URL has no host")),
        };
        if !allow_private {
            let private = match host {
                url::Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
                url::Host::Domain(name) => {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    name == "localhost" || name.ends_with(".localhost")
                }
            };
            if private {
                return Err(fail(
                    "the host is a loopback, private or otherwise non-public address \
                     (set `webhook_allow_private_targets` to allow it)",
                ));
            }
        }
        Ok(EndpointUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// Whether `ip` is an address on the public internet: not loopback, private,
/// link-local, shared (CGNAT), documentation, benchmarking, multicast, reserved or
/// unspecified; IPv4-mapped and NAT64 IPv6 addresses are judged by their IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (RFC 6598, carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments (RFC 6890), including 192.0.0.0/29 (DS-Lite).
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking (RFC 2544).
        || (a == 198 && (18..20).contains(&b))
        // Reserved (240/4).
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let first = segments.first().copied().unwrap_or(0);
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments.starts_with(&[0x64, 0xff9b, 0, 0, 0, 0]) {
        let [.., hi, lo] = segments;
        let v4 = (u32::from(hi) << 16) | u32::from(lo);
        return is_public_v4(Ipv4Addr::from(v4));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local (fc00::/7) and link-local (fe80::/10).
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        // Site-local (deprecated, fec0::/10).
        || (first & 0xffc0) == 0xfec0
        // Documentation (2001:db8::/32).
        || (first == 0x2001 && segments.get(1) == Some(&0x0db8))
        // IPv4-compatible (deprecated) and other ::/96 forms.
        || segments.starts_with(&[0, 0, 0, 0, 0, 0]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn public_http_and_https_urls_are_accepted() {
        for url in [
            "https://hooks.example.com/latchkey",
            "http://93.184.216.34:8080/in?x=1",
            "https://[2606:4700::1111]/hook",
        ] {
            assert_eq!(EndpointUrl::parse(url, false).unwrap().as_str(), url);
        }
    }

    #[test]
    fn other_schemes_credentials_fragments_and_hostless_urls_are_refused() {
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "not a url",
            "",
        ] {
            assert!(EndpointUrl::parse(url, true).is_err(), "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX_BYTES));
        assert!(EndpointUrl::parse(&long, true).is_err());
    }

    #[test]
    fn non_public_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:5432/",
            "http://localhost/",
            "http://api.localhost./",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            // Decimal and short forms of 127.0.0.1 are normalised by the URL parser.
            "http://2130706433/",
            "http://127.1/",
        ] {
            assert!(EndpointUrl::parse(url, false).is_err(), "{url}");
            assert!(EndpointUrl::parse(url, true).is_ok(), "{url}");
        }
    }
}
