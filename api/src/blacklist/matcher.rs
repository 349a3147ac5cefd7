//! IpMatcher: is an address inside any blacklisted address or block?
//!
//! Each family keeps its entries as inclusive ranges sorted by start, beside a running maximum of
//! their ends: an address is covered when the last range starting at or before it reaches it, and
//! the running maximum answers that in one binary search, O(log n) however long the list grows.
//! Unlike merged ranges, the entries keep their identity, so one can be added or removed without
//! reading the whole blacklist again.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Debug, Clone, Default)]
pub struct IpMatcher {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

#[derive(Debug, Clone, Copy)]
enum Edit {
    Insert,
    Remove,
}

#[derive(Debug, Clone, Default)]
struct Ranges<T> {
    /// (start, end), sorted; entries are unique because their canonical text is.
    ranges: Vec<(T, T)>,
    /// `max_end[i]` is the largest end among `ranges[..=i]`.
    max_end: Vec<T>,
}

impl IpMatcher {
    /// Builds the matcher from a list at once; the server itself streams through `MatcherBuilder`.
    #[cfg(test)]
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a str>) -> Self {
        let mut builder = MatcherBuilder::default();
        for entry in entries {
            builder.add(entry);
        }
        builder.build()
    }

    /// Removes one entry and/or adds one (a create, update or delete on this instance), in place:
    /// O(n) moves at worst, and no copy of the whole list.
    pub fn change(&mut self, removed: Option<&str>, added: Option<&str>) {
        if let Some(net) = removed.and_then(parse_entry) {
            self.edit(net, Edit::Remove);
        }
        if let Some(net) = added.and_then(parse_entry) {
            self.edit(net, Edit::Insert);
        }
    }

    fn edit(&mut self, net: IpNet, edit: Edit) {
        match net {
            IpNet::V4(net) => self
                .v4
                .edit((net.network().to_bits(), net.broadcast().to_bits()), edit),
            IpNet::V6(net) => self
                .v6
                .edit((net.network().to_bits(), net.broadcast().to_bits()), edit),
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        // IPv4 clients reaching an IPv6 socket arrive as ::ffff:a.b.c.d.
        match addr.to_canonical() {
            IpAddr::V4(v4) => self.v4.covers(v4.to_bits()),
            IpAddr::V6(v6) => self.v6.covers(v6.to_bits()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.ranges.is_empty() && self.v6.ranges.is_empty()
    }
}

/// Takes entries one at a time, so that a full reload never holds the whole list as text.
#[derive(Default)]
pub struct MatcherBuilder {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl MatcherBuilder {
    /// Adds one canonical entry; one that does not parse is skipped with a warning rather than
    /// taking the whole blacklist down.
    pub fn add(&mut self, entry: &str) {
        match parse_entry(entry) {
            Some(IpNet::V4(net)) => self
                .v4
                .push((net.network().to_bits(), net.broadcast().to_bits())),
            Some(IpNet::V6(net)) => self
                .v6
                .push((net.network().to_bits(), net.broadcast().to_bits())),
            None => {}
        }
    }

    pub fn build(self) -> IpMatcher {
        IpMatcher {
            v4: Ranges::from_unsorted(self.v4),
            v6: Ranges::from_unsorted(self.v6),
        }
    }
}

fn parse_entry(entry: &str) -> Option<IpNet> {
    entry
        .parse::<IpNet>()
        .ok()
        .or_else(|| {
            entry
                .parse::<IpAddr>()
                .ok()
                .map(|addr| IpNet::from(addr.to_canonical()))
        })
        .or_else(|| {
            tracing::warn!(entry, "skipping a blacklist entry that is not an address");
            None
        })
}

impl<T: Ord + Copy> Ranges<T> {
    fn from_unsorted(mut ranges: Vec<(T, T)>) -> Self {
        ranges.sort_unstable();
        ranges.dedup();
        let mut sorted = Self {
            ranges,
            max_end: Vec::new(),
        };
        sorted.recompute_max_end(0);
        sorted
    }

    fn covers(&self, value: T) -> bool {
        let after = self.ranges.partition_point(|&(start, _)| start <= value);
        after > 0 && self.max_end[after - 1] >= value
    }

    fn edit(&mut self, range: (T, T), edit: Edit) {
        let at = match (edit, self.ranges.binary_search(&range)) {
            (Edit::Insert, Err(at)) => {
                self.ranges.insert(at, range);
                at
            }
            (Edit::Remove, Ok(at)) => {
                self.ranges.remove(at);
                at
            }
            // Inserting what is there or removing what is not changes nothing.
            _ => return,
        };
        self.recompute_max_end(at);
    }

    fn recompute_max_end(&mut self, from: usize) {
        self.max_end.truncate(from);
        let mut running = self.max_end.last().copied();
        for &(_, end) in &self.ranges[from..] {
            let max = running.map_or(end, |m| m.max(end));
            self.max_end.push(max);
            running = Some(max);
        }
    }
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
    fn an_address_after_a_small_block_inside_a_large_one_is_covered() {
        // 10.2.0.0/16 starts after 10.0.0.0/8 but ends sooner: the running maximum must carry /8's end.
        let matcher = IpMatcher::new(["10.0.0.0/8", "10.2.0.0/16"]);
        assert!(matcher.contains(ip("10.200.0.1")));
        assert!(!matcher.contains(ip("11.0.0.1")));
    }

    #[test]
    fn entries_can_be_added_and_removed_one_at_a_time() {
        let mut matcher = IpMatcher::new(["10.0.0.0/8", "2001:db8::/32"]);
        matcher.change(Some("10.0.0.0/8"), Some("192.0.2.0/24"));
        assert!(!matcher.contains(ip("10.1.1.1")));
        assert!(matcher.contains(ip("192.0.2.9")));
        assert!(matcher.contains(ip("2001:db8::1")));
        matcher.change(Some("192.0.2.0/24"), None);
        matcher.change(Some("2001:db8::/32"), None);
        assert!(matcher.is_empty());
    }

    #[test]
    fn a_change_gives_the_same_answers_as_a_rebuild() {
        let before = [
            "10.0.0.0/8",
            "10.2.0.0/16",
            "192.0.2.7",
            "::1",
            "2001:db8::/48",
        ];
        let after = [
            "10.2.0.0/16",
            "192.0.2.7",
            "::1",
            "2001:db8::/48",
            "172.16.0.0/12",
        ];
        let mut changed = IpMatcher::new(before);
        changed.change(Some("10.0.0.0/8"), Some("172.16.0.0/12"));
        let rebuilt = IpMatcher::new(after);
        for probe in [
            "10.1.0.1",
            "10.2.3.4",
            "172.20.0.1",
            "192.0.2.7",
            "192.0.2.8",
            "::1",
            "2001:db8::5",
            "2001:db9::",
        ] {
            assert_eq!(
                changed.contains(ip(probe)),
                rebuilt.contains(ip(probe)),
                "{probe}"
            );
        }
    }

    #[test]
    fn an_empty_blacklist_matches_nothing() {
        let matcher = IpMatcher::new([]);
        assert!(matcher.is_empty());
        assert!(!matcher.contains(ip("127.0.0.1")));
    }
}
