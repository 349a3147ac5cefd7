//! IpMatcher: is an address inside any blacklisted address or block? A binary search over merged
//! ranges, so a lookup costs O(log n) however long the blacklist grows.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug, Default)]
pub struct IpMatcher {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpMatcher {
    /// Builds the matcher from canonical entries (see `crate::ip`); an entry that does not parse is
    /// skipped with a warning rather than taking the whole blacklist down.
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a str>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for entry in entries {
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(addr) => IpNet::from(addr.to_canonical()),
                    Err(_) => {
                        tracing::warn!(entry, "skipping a blacklist entry that is not an address");
                        continue;
                    }
                },
            };
            match net {
                IpNet::V4(net) => v4.push((net.network().to_bits(), net.broadcast().to_bits())),
                IpNet::V6(net) => v6.push((net.network().to_bits(), net.broadcast().to_bits())),
            }
        }
        Self {
            v4: merge(v4),
            v6: merge(v6),
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        // IPv4 clients reaching an IPv6 socket arrive as ::ffff:a.b.c.d.
        match addr.to_canonical() {
            IpAddr::V4(v4) => covered(&self.v4, v4.to_bits()),
            IpAddr::V6(v6) => covered(&self.v6, v6.to_bits()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Sorts inclusive ranges and merges overlapping ones, so at most one range can hold an address.
fn merge<T: Ord + Copy>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn covered<T: Ord + Copy>(ranges: &[(T, T)], value: T) -> bool {
    let after = ranges.partition_point(|&(start, _)| start <= value);
    after > 0 && ranges[after - 1].1 >= value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn addresses_and_blocks_match_what_they_cover() {
        let matcher = IpMatcher::new(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "fe80::1"]);
        assert!(matcher.contains(ip("10.255.1.2")));
        assert!(matcher.contains(ip("192.0.2.7")));
        assert!(!matcher.contains(ip("192.0.2.8")));
        assert!(!matcher.contains(ip("11.0.0.0")));
        assert!(matcher.contains(ip("2001:db8:ffff::1")));
        assert!(matcher.contains(ip("fe80::1")));
        assert!(!matcher.contains(ip("fe80::2")));
    }

    #[test]
    fn ipv4_mapped_clients_match_ipv4_entries() {
        let matcher = IpMatcher::new(["10.0.0.0/8"]);
        assert!(matcher.contains(ip("::ffff:10.1.2.3")));
    }

    #[test]
    fn nested_and_overlapping_blocks_merge() {
        let matcher = IpMatcher::new(["10.0.0.0/8", "10.1.0.0/16", "10.0.0.5", "0.0.0.0/1"]);
        assert_eq!(matcher.v4.len(), 1);
        assert!(matcher.contains(ip("127.0.0.1")));
        assert!(!matcher.contains(ip("128.0.0.1")));
    }

    #[test]
    fn an_empty_blacklist_matches_nothing() {
        let matcher = IpMatcher::new([]);
        assert!(matcher.is_empty());
        assert!(!matcher.contains(ip("127.0.0.1")));
    }
}
