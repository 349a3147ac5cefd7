//! Which address a request comes from: the socket peer, or, behind a trusted proxy, the right-most
//! X-Forwarded-For hop that is not itself a trusted proxy. The header is never believed otherwise:
//! anyone can write it.
//!
//! Walking from the right, every hop up to the client was written by one of our trusted proxies, so
//! it must be an address. If one is not, the chain cannot be read and nobody can say who the client
//! is: the request is refused rather than pinned on a proxy (which would let a blacklisted client in).
//! Hops left of the client were written by the client; whatever they hold does not matter.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
};

use axum::http::HeaderMap;
use ipnet::IpNet;

pub use crate::auth::request::ClientIp;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Why the X-Forwarded-For chain from a trusted proxy could not be read up to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableHop {
    /// Position counted from the right: 1 is the hop our own proxy wrote last.
    pub position: usize,
    pub reason: HopFault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopFault {
    Empty,
    NotText,
    NotAnAddress,
}

impl HopFault {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty hop",
            Self::NotText => "hop is not ASCII text",
            Self::NotAnAddress => "hop is not an IP address",
        }
    }
}

impl fmt::Display for UnreadableHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "X-Forwarded-For hop {} from the right: {}",
            self.position,
            self.reason.as_str()
        )
    }
}

/// The client's address; an error when a trusted peer sent hops that cannot be read up to it.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted_proxies: &[IpNet],
) -> Result<IpAddr, UnreadableHop> {
    let peer = peer.to_canonical();
    let trusted = |addr: &IpAddr| trusted_proxies.iter().any(|net| net.contains(addr));
    if !trusted(&peer) {
        return Ok(peer);
    }
    // Header lines in order make one list; bytes, not `to_str`, so that junk in one hop (say a
    // byte over 0x7f the client put left of its own address) cannot hide the hops beside it.
    let hops = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .rev()
        .flat_map(|line| line.as_bytes().rsplit(|byte| *byte == b','));
    let mut leftmost_trusted = None;
    for (index, hop) in hops.enumerate() {
        let addr = parse_hop(hop).map_err(|reason| UnreadableHop {
            position: index + 1,
            reason,
        })?;
        if !trusted(&addr) {
            return Ok(addr);
        }
        leftmost_trusted = Some(addr);
    }
    // Only trusted hops (or no header at all): the request started at a proxy of ours.
    Ok(leftmost_trusted.unwrap_or(peer))
}

/// One hop: an address, optionally with a port (`1.2.3.4:80`, `[::1]:80`) or in brackets (`[::1]`).
fn parse_hop(hop: &[u8]) -> Result<IpAddr, HopFault> {
    let text = std::str::from_utf8(hop)
        .ok()
        .filter(|text| text.is_ascii())
        .ok_or(HopFault::NotText)?
        .trim_matches([' ', '\t']);
    if text.is_empty() {
        return Err(HopFault::Empty);
    }
    let bracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'));
    bracketed
        .unwrap_or(text)
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip()))
        .map(|addr| addr.to_canonical())
        .map_err(|_| HopFault::NotAnAddress)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    /// One header line per item, in order, as sent.
    fn forwarded(lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            let value = HeaderValue::from_bytes(line).expect("a legal header value");
            headers.append(X_FORWARDED_FOR, value);
        }
        headers
    }

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().expect("a block")]
    }

    fn behind_proxy(lines: &[&[u8]]) -> Result<IpAddr, UnreadableHop> {
        client_ip(ip("10.0.0.1"), &forwarded(lines), &proxies())
    }

    fn unreadable(position: usize, reason: HopFault) -> Result<IpAddr, UnreadableHop> {
        Err(UnreadableHop { position, reason })
    }

    #[test]
    fn the_header_is_ignored_from_an_untrusted_peer() {
        for lines in [&[&b"198.51.100.1"[..]][..], &[b"junk, \xff"]] {
            let headers = forwarded(lines);
            assert_eq!(
                client_ip(ip("203.0.113.9"), &headers, &proxies()),
                Ok(ip("203.0.113.9"))
            );
            assert_eq!(
                client_ip(ip("203.0.113.9"), &headers, &[]),
                Ok(ip("203.0.113.9"))
            );
        }
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        assert_eq!(
            behind_proxy(&[b"1.1.1.1, 198.51.100.1, 10.0.0.2"]),
            Ok(ip("198.51.100.1"))
        );
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies()),
            Ok(ip("10.0.0.1"))
        );
    }

    #[test]
    fn only_trusted_hops_make_the_leftmost_of_them_the_client() {
        assert_eq!(behind_proxy(&[b"10.0.0.3, 10.0.0.2"]), Ok(ip("10.0.0.3")));
    }

    #[test]
    fn junk_left_of_the_client_does_not_matter() {
        let cases: [&[&[u8]]; 6] = [
            &[b"not-an-ip, 198.51.100.1"],
            &[b"\xff\xfe, 198.51.100.1"],
            &[b"\xc3\xa9, 198.51.100.1, 10.0.0.2"],
            &[b", 198.51.100.1"],
            &[b"junk", b"198.51.100.1"],
            &[b"\x80", b"1.1.1.1,198.51.100.1", b"10.0.0.2"],
        ];
        for lines in cases {
            assert_eq!(behind_proxy(lines), Ok(ip("198.51.100.1")), "{lines:?}");
        }
    }

    #[test]
    fn junk_up_to_the_client_refuses_the_request_rather_than_naming_the_proxy() {
        use HopFault::*;
        let cases: [(&[&[u8]], _); 9] = [
            (&[b"198.51.100.1, not-an-ip"], unreadable(1, NotAnAddress)),
            (&[b"198.51.100.1, \xff"], unreadable(1, NotText)),
            (&[b"198.51.100.1, \xc3\xa9"], unreadable(1, NotText)),
            (
                &[b"198.51.100.1, 10.0.0.2, junk"],
                unreadable(1, NotAnAddress),
            ),
            (
                &[b"198.51.100.1, junk, 10.0.0.2"],
                unreadable(2, NotAnAddress),
            ),
            (&[b"198.51.100.1,"], unreadable(1, Empty)),
            (&[b"198.51.100.1,  , 10.0.0.2"], unreadable(2, Empty)),
            (&[b"198.51.100.1", b"junk"], unreadable(1, NotAnAddress)),
            (&[b""], unreadable(1, Empty)),
        ];
        for (lines, want) in cases {
            assert_eq!(behind_proxy(lines), want, "{lines:?}");
        }
    }

    #[test]
    fn hops_spread_over_several_lines_read_as_one_list() {
        assert_eq!(
            behind_proxy(&[b"198.51.100.1", b"10.0.0.3, 10.0.0.2"]),
            Ok(ip("198.51.100.1"))
        );
        assert_eq!(
            behind_proxy(&[b"1.1.1.1, 198.51.100.1", b"10.0.0.2"]),
            Ok(ip("198.51.100.1"))
        );
    }

    #[test]
    fn mapped_bracketed_and_port_carrying_hops_are_understood() {
        let cases: [(&[u8], &str); 7] = [
            (b"198.51.100.1:443", "198.51.100.1"),
            (b"::ffff:198.51.100.1", "198.51.100.1"),
            (b"[::ffff:198.51.100.1]:80", "198.51.100.1"),
            (b"[2001:db8::1]:80", "2001:db8::1"),
            (b"[2001:db8::1]", "2001:db8::1"),
            (b"2001:DB8::1", "2001:db8::1"),
            (b"\t198.51.100.1 ", "198.51.100.1"),
        ];
        for (hop, want) in cases {
            assert_eq!(behind_proxy(&[hop]), Ok(ip(want)), "{hop:?}");
        }
        assert_eq!(
            client_ip(
                ip("::ffff:10.0.0.1"),
                &forwarded(&[b"198.51.100.1"]),
                &proxies()
            ),
            Ok(ip("198.51.100.1"))
        );
    }

    #[test]
    fn a_mapped_proxy_hop_counts_as_trusted() {
        assert_eq!(
            behind_proxy(&[b"198.51.100.1, ::ffff:10.0.0.2"]),
            Ok(ip("198.51.100.1"))
        );
    }

    #[test]
    fn malformed_brackets_and_ports_are_not_addresses() {
        for hop in [
            &b"[198.51.100.1"[..],
            b"198.51.100.1]",
            b"198.51.100.1:",
            b"198.51.100.1:99999",
            b"[2001:db8::1]:",
            b"2001:db8::1:80:80:80:80:80",
            b"unknown",
        ] {
            assert_eq!(
                behind_proxy(&[hop]),
                unreadable(1, HopFault::NotAnAddress),
                "{hop:?}"
            );
        }
    }
}
