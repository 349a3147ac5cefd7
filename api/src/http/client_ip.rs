//! Which address a request comes from: the socket peer, or, behind a trusted proxy, the right-most
//! X-Forwarded-For hop that is not itself a trusted proxy. The header is never believed otherwise:
//! anyone can write it.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address, put in request extensions (and GraphQL request data) by the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let trusted = |addr: &IpAddr| trusted_proxies.iter().any(|net| net.contains(addr));
    if !trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut leftmost_trusted = None;
    for hop in hops.iter().rev() {
        // A hop our own proxy wrote is well-formed; anything else means we cannot tell who it is,
        // and the proxy itself is the only address we know to be real.
        let Some(addr) = parse_hop(hop) else {
            return peer;
        };
        if !trusted(&addr) {
            return addr;
        }
        leftmost_trusted = Some(addr);
    }
    leftmost_trusted.unwrap_or(peer)
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|addr| addr.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(X_FORWARDED_FOR, HeaderValue::from_static(value));
        headers
    }

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().expect("a block")]
    }

    #[test]
    fn the_header_is_ignored_from_an_untrusted_peer() {
        assert_eq!(
            client_ip(ip("203.0.113.9"), &forwarded("198.51.100.1"), &proxies()),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("203.0.113.9"), &forwarded("198.51.100.1"), &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let headers = forwarded("1.1.1.1, 198.51.100.1, 10.0.0.2");
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &proxies()),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_garbled_hop_falls_back_to_the_peer() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), &forwarded("1.1.1.1, not-an-ip"), &proxies()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn mapped_and_port_carrying_hops_are_understood() {
        assert_eq!(
            client_ip(
                ip("::ffff:10.0.0.1"),
                &forwarded("198.51.100.1:443"),
                &proxies()
            ),
            ip("198.51.100.1")
        );
    }
}
