//! The canonical text form of a blacklisted address or CIDR block.
//!
//! One value has one spelling, so the database's unique index catches every duplicate:
//! IPv6 is lower-case and compressed (RFC 5952), IPv4-mapped IPv6 becomes IPv4, a /32 or /128
//! block is the bare address, and a block with host bits set (`10.0.0.7/8`) is rejected rather
//! than silently widened, because the caller may have meant the host.

use std::net::IpAddr;

use ipnet::IpNet;

/// The longest canonical form (an IPv6 block) is 43 characters; anything longer is not an address.
const MAX_INPUT_CHARS: usize = 64;

pub fn canonicalize(input: &str) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if input.len() > MAX_INPUT_CHARS {
        return Err("is not an IP address or CIDR block".to_owned());
    }
    match input.split_once('/') {
        None => input
            .parse::<IpAddr>()
            .map(|addr| addr.to_canonical().to_string())
            .map_err(|_| format!("`{input}` is not an IPv4 or IPv6 address or CIDR block")),
        Some((addr, prefix)) => canonical_block(input, addr, prefix),
    }
}

fn canonical_block(input: &str, addr: &str, prefix: &str) -> Result<String, String> {
    let not_a_block = || format!("`{input}` is not an IPv4 or IPv6 address or CIDR block");
    // ipnet accepts what std accepts; reject signs and leading zeros in the prefix ourselves.
    if prefix.is_empty()
        || !prefix.bytes().all(|b| b.is_ascii_digit())
        || (prefix.len() > 1 && prefix.starts_with('0'))
    {
        return Err(not_a_block());
    }
    let addr: IpAddr = addr.parse().map_err(|_| not_a_block())?;
    let prefix: u8 = prefix.parse().map_err(|_| not_a_block())?;
    let net = IpNet::new(addr, prefix)
        .map_err(|_| format!("`{input}` has a prefix longer than the address"))?;
    if net.trunc() != net {
        return Err(format!(
            "`{input}` has host bits set; the block is `{}`",
            net.trunc()
        ));
    }
    let net = unmap_ipv4(net);
    if net.prefix_len() == 0 {
        return Err(format!(
            "`{input}` covers every address and would refuse every client"
        ));
    }
    if net.prefix_len() == net.max_prefix_len() {
        Ok(net.addr().to_string())
    } else {
        Ok(net.to_string())
    }
}

/// `::ffff:10.0.0.0/104` is the IPv4 block `10.0.0.0/8`; shorter prefixes stay IPv6.
fn unmap_ipv4(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::canonicalize;

    #[test]
    fn addresses_take_their_canonical_spelling() {
        assert_eq!(canonicalize("10.0.0.7").as_deref(), Ok("10.0.0.7"));
        assert_eq!(canonicalize(" 2001:DB8::1 ").as_deref(), Ok("2001:db8::1"));
        assert_eq!(
            canonicalize("2001:0db8:0000:0000:0000:0000:0000:0001").as_deref(),
            Ok("2001:db8::1")
        );
        assert_eq!(canonicalize("::ffff:192.0.2.1").as_deref(), Ok("192.0.2.1"));
    }

    #[test]
    fn blocks_take_their_canonical_spelling() {
        assert_eq!(canonicalize("10.0.0.0/8").as_deref(), Ok("10.0.0.0/8"));
        assert_eq!(canonicalize("10.0.0.7/32").as_deref(), Ok("10.0.0.7"));
        assert_eq!(
            canonicalize("2001:DB8::/32").as_deref(),
            Ok("2001:db8::/32")
        );
        assert_eq!(
            canonicalize("::ffff:10.0.0.0/104").as_deref(),
            Ok("10.0.0.0/8")
        );
    }

    #[test]
    fn blocks_with_host_bits_are_rejected() {
        let error = canonicalize("10.0.0.7/8").expect_err("host bits set");
        assert!(error.contains("10.0.0.0/8"), "{error}");
    }

    #[test]
    fn non_addresses_are_rejected() {
        for bad in [
            "",
            "   ",
            "10.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "fe80::1%eth0",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "1.2.3.4/08",
            "localhost",
            "1.2.3.4; DROP TABLE x",
        ] {
            assert!(canonicalize(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
