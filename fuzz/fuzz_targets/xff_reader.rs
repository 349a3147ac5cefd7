//! The X-Forwarded-For reader behind trusted proxies (10.0.0.0/8): the client is the right-most
//! hop that is not a trusted proxy, junk anywhere right of it refuses the request, and nothing
//! ever makes a trusted proxy's address stand in for a client who sent one.
#![no_main]

use std::net::IpAddr;

use api::http::client_ip::client_ip;
use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderValue};
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, Arbitrary)]
enum Hop {
    /// One of our proxies, as `10.0.<n>.1`.
    Proxy(u8),
    /// A client address outside the trusted block (`203.0.113.<n>`, or IPv6).
    Client(u8),
    ClientV6(u16),
    /// Something no proxy of ours writes: bytes above 0x7f, or a word.
    Junk(Vec<u8>, bool),
}

impl Hop {
    fn text(&self) -> Vec<u8> {
        match self {
            Self::Proxy(n) => format!("10.0.{n}.1").into_bytes(),
            Self::Client(n) => format!("203.0.113.{n}").into_bytes(),
            Self::ClientV6(n) => format!("[2001:db8::{n:x}]:443").into_bytes(),
            Self::Junk(bytes, high) => {
                let mut junk: Vec<u8> = bytes
                    .iter()
                    .map(|b| if *high { b | 0x80 } else { b'a' + b % 26 })
                    .collect();
                junk.insert(0, if *high { 0xff } else { b'x' });
                junk
            }
        }
    }

    fn address(&self) -> Option<IpAddr> {
        match self {
            Self::Proxy(n) => Some(IpAddr::from([10, 0, *n, 1])),
            Self::Client(n) => Some(IpAddr::from([203, 0, 113, *n])),
            Self::ClientV6(n) => Some(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, *n])),
            Self::Junk(..) => None,
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    peer_trusted: bool,
    /// Header lines, each a list of hops joined by commas.
    lines: Vec<Vec<Hop>>,
}

fuzz_target!(|input: Input| {
    let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("a block")];
    let peer = if input.peer_trusted {
        IpAddr::from([10, 9, 9, 9])
    } else {
        IpAddr::from([198, 51, 100, 1])
    };
    let mut headers = HeaderMap::new();
    let mut hops: Vec<&Hop> = Vec::new();
    for line in &input.lines {
        let text = line
            .iter()
            .map(Hop::text)
            .collect::<Vec<_>>()
            .join(&b", "[..]);
        let Ok(value) = HeaderValue::from_bytes(&text) else {
            return;
        };
        if line.is_empty() {
            return; // an empty line is a hop of its own; covered by the unit tests
        }
        headers.append("x-forwarded-for", value);
        hops.extend(line);
    }
    let answer = client_ip(peer, &headers, &trusted);
    if !input.peer_trusted {
        assert_eq!(
            answer.ok(),
            Some(peer),
            "an untrusted peer's header was believed"
        );
        return;
    }
    // The model: walk from the right.
    let mut expected = Some(peer);
    for hop in hops.iter().rev() {
        match hop.address() {
            None => {
                assert!(
                    answer.is_err(),
                    "junk right of the client was read past: {answer:?} {hops:?}"
                );
                return;
            }
            Some(addr) if !trusted[0].contains(&addr) => {
                assert_eq!(answer.ok(), Some(addr), "{hops:?}");
                return;
            }
            Some(addr) => expected = Some(addr),
        }
    }
    assert_eq!(answer.ok(), expected, "only proxies: {hops:?}");
});
