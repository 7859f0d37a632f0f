use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use proptest::prelude::*;

use super::{ForwardedHeader, client_address};

const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;
const FWD: ForwardedHeader = ForwardedHeader::Forwarded;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

fn proxies() -> Vec<IpNet> {
    nets(&["10.0.0.0/8", "fd00::/8"])
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_claims() {
    let peer = ip("203.0.113.9");
    for header in [XFF, FWD] {
        let got = client_address(
            peer,
            &proxies(),
            header,
            &["198.51.100.1", "for=198.51.100.1"],
        );
        assert_eq!(got, peer);
    }
    // No trusted proxies at all (the default).
    assert_eq!(
        client_address(ip("10.0.0.1"), &[], XFF, &["198.51.100.1"]),
        ip("10.0.0.1")
    );
}

#[test]
fn x_forwarded_for_is_read_from_the_right_skipping_trusted_hops() {
    let peer = ip("10.0.0.1");
    let got = client_address(peer, &proxies(), XFF, &["1.1.1.1, 198.51.100.7, 10.0.0.2"]);
    assert_eq!(got, ip("198.51.100.7"));
    // Several header lines are one list, in order.
    let got = client_address(
        peer,
        &proxies(),
        XFF,
        &["1.1.1.1", "198.51.100.7", "10.0.0.2"],
    );
    assert_eq!(got, ip("198.51.100.7"));
}

#[test]
fn forwarded_for_values_in_every_form_are_read() {
    let peer = ip("10.0.0.1");
    for (value, want) in [
        ("for=198.51.100.7", "198.51.100.7"),
        ("For=\"198.51.100.7:4711\";proto=https", "198.51.100.7"),
        ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
        ("for=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
        ("proto=https;for=198.51.100.7;by=10.0.0.1", "198.51.100.7"),
        (
            "for=1.1.1.1, for=198.51.100.7, for=10.0.0.9",
            "198.51.100.7",
        ),
        ("for=\"[::ffff:198.51.100.7]\"", "198.51.100.7"),
        ("for=\"\\1\\9\\8.51.100.7\"", "198.51.100.7"),
        ("for=[2001:db8::1]:80", "2001:db8::1"),
    ] {
        assert_eq!(
            client_address(peer, &proxies(), FWD, &[value]),
            ip(want),
            "{value}"
        );
    }
}

#[test]
fn only_the_configured_header_counts() {
    let peer = ip("10.0.0.1");
    // The proxy writes X-Forwarded-For; a Forwarded line is the client's own.
    assert_eq!(client_address(peer, &proxies(), XFF, &[]), peer);
    assert_eq!(client_address(peer, &proxies(), FWD, &[]), peer);
}

#[test]
fn an_unusable_hop_stops_the_walk_at_the_last_trusted_address() {
    let peer = ip("10.0.0.1");
    for (header, value, want) in [
        (XFF, "garbage", "10.0.0.1"),
        (XFF, "198.51.100.7, unknown", "10.0.0.1"),
        (XFF, "198.51.100.7, nonsense, 10.0.0.3", "10.0.0.3"),
        (FWD, "for=unknown", "10.0.0.1"),
        (FWD, "for=_hidden, for=10.0.0.3", "10.0.0.3"),
        (FWD, "proto=https", "10.0.0.1"),
        (FWD, "for=198.51.100.7;for=198.51.100.8", "10.0.0.1"),
        (FWD, "for=\"198.51.100.7", "10.0.0.1"),
        (FWD, "for=198.51.100.7;=x", "10.0.0.1"),
        (FWD, "for=\"198.51.100.7\"x", "10.0.0.1"),
    ] {
        assert_eq!(
            client_address(peer, &proxies(), header, &[value]),
            ip(want),
            "{value}"
        );
    }
}

#[test]
fn garbage_left_of_the_proxys_entry_is_never_read() {
    let peer = ip("10.0.0.1");
    let got = client_address(
        peer,
        &proxies(),
        FWD,
        &["for=\"oops, for=1.2.3.4", "for=198.51.100.7"],
    );
    assert_eq!(got, ip("198.51.100.7"));
    let got = client_address(peer, &proxies(), XFF, &["<script>, ::::, 198.51.100.7"]);
    assert_eq!(got, ip("198.51.100.7"));
}

#[test]
fn empty_elements_are_skipped_and_an_all_trusted_chain_gives_its_leftmost() {
    let peer = ip("10.0.0.1");
    assert_eq!(
        client_address(peer, &proxies(), XFF, &[" , 10.0.0.5 ,, "]),
        ip("10.0.0.5")
    );
    assert_eq!(
        client_address(peer, &proxies(), FWD, &[", for=10.0.0.5,"]),
        ip("10.0.0.5")
    );
    assert_eq!(client_address(peer, &proxies(), XFF, &[""]), peer);
}

#[test]
fn a_mapped_ipv6_peer_is_judged_as_its_ipv4_address() {
    let peer = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
    assert_eq!(
        client_address(peer, &proxies(), XFF, &["198.51.100.7"]),
        ip("198.51.100.7")
    );
    let untrusted = IpAddr::V6(Ipv4Addr::new(203, 0, 113, 9).to_ipv6_mapped());
    assert_eq!(
        client_address(untrusted, &proxies(), XFF, &["198.51.100.7"]),
        ip("203.0.113.9")
    );
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
    ]
}

/// An address outside the test's trusted networks.
fn public_ip() -> impl Strategy<Value = IpAddr> {
    any_ip()
        .prop_map(|ip: IpAddr| ip.to_canonical())
        .prop_filter("outside the proxies", |ip| {
            !proxies().iter().any(|n| n.contains(ip))
        })
}

/// How a proxy may write an address in `Forwarded`.
fn forwarded_node(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V4(v4), None) => format!("for={v4}"),
        (IpAddr::V4(v4), Some(p)) => format!("for=\"{v4}:{p}\""),
        (IpAddr::V6(v6), None) => format!("for=\"[{v6}]\""),
        (IpAddr::V6(v6), Some(p)) => format!("for=\"[{v6}]:{p}\""),
    }
}

proptest! {
    #[test]
    fn an_untrusted_peer_always_wins(peer in public_ip(), lines in prop::collection::vec(".*", 0..4)) {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        prop_assert_eq!(client_address(peer, &proxies(), XFF, &lines), peer);
        prop_assert_eq!(client_address(peer, &proxies(), FWD, &lines), peer);
    }

    #[test]
    fn whatever_the_client_wrote_the_proxys_entry_decides(
        claim in ".*",
        client in public_ip(),
        port in proptest::option::of(any::<u16>()),
    ) {
        let peer = ip("10.0.0.1");
        // The client's own line, then the line our proxy appended.
        let xff = [claim.as_str(), &client.to_string()];
        prop_assert_eq!(client_address(peer, &proxies(), XFF, &xff), client);
        let fwd = [claim.as_str(), &forwarded_node(client, port)];
        prop_assert_eq!(client_address(peer, &proxies(), FWD, &fwd), client);
    }

    #[test]
    fn any_text_from_a_trusted_peer_gives_an_answer(lines in prop::collection::vec("[0-9a-f:.\\[\\]\", ;=forFOR_\\\\]{0,80}|.*", 0..3)) {
        let peer = ip("10.0.0.1");
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        // No panic, and the same answer every time.
        for header in [XFF, FWD] {
            let got = client_address(peer, &proxies(), header, &lines);
            prop_assert_eq!(got, client_address(peer, &proxies(), header, &lines));
        }
    }

    #[test]
    fn chains_of_proxies_are_skipped(
        client in public_ip(),
        hops in prop::collection::vec((any::<u8>(), any::<u8>()), 0..5),
        port in proptest::option::of(any::<u16>()),
    ) {
        let peer = ip("10.0.0.1");
        let mut chain = vec![forwarded_node(client, port)];
        chain.extend(hops.iter().map(|(a, b)| format!("for=10.{a}.{b}.1")));
        let line = chain.join(", ");
        prop_assert_eq!(client_address(peer, &proxies(), FWD, &[line.as_str()]), client);
    }
}
