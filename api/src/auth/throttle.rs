//! Login throttling: every attempt is reserved before its password is checked, so guessing stays
//! bounded however many attempts arrive at once.
//!
//! Three counters per attempt, all in the token store (so the limits hold across instances) and
//! reserved in one atomic step: the name from this address (LOGIN_MAX_FAILURES), the address
//! whatever the name (LOGIN_MAX_FAILURES_PER_ADDRESS) and the name from anywhere, a much higher
//! ceiling (LOGIN_MAX_FAILURES_PER_NAME). So an attacker's failures lock out the attacker's
//! address, not the owner's, while guessing spread over many addresses still meets the ceiling. IPv6 clients are counted by their
//! network (LOGIN_IPV6_PREFIX), since one host can pick any address in its /64. Besides, each
//! name and each address may have only one attempt in flight on an instance, so one client
//! cannot fill the password-hashing queue that everybody shares. Names that do not exist are
//! counted like real ones, so the answers never tell which names exist.

use std::{
    collections::HashSet,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use ipnet::IpNet;

use super::{
    liveness::{AttemptCounters, Bucket, Reservation},
    session::store_error,
};
use crate::{config::Config, error::ApiError};

/// Longest name kept in a counter key; longer ones are cut (they can only be failures anyway).
const MAX_KEY_NAME_CHARS: usize = 128;

/// Who is logging in: a person or a service account. Their names are counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    User,
    Service,
}

impl AttemptKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Service => "service",
        }
    }
}

#[derive(Clone)]
pub struct LoginThrottle {
    store: Arc<dyn AttemptCounters>,
    max_failures: u64,
    max_failures_per_address: u64,
    max_failures_per_name: u64,
    window: Duration,
    ipv6_prefix: u8,
    in_flight: Arc<Mutex<HashSet<String>>>,
}

/// The counters of one attempt.
struct AttemptKeys {
    /// The name from this address.
    pair: String,
    /// The address (or IPv6 network) alone.
    address: Option<String>,
    /// The name from anywhere.
    name: String,
}

/// A reserved login attempt. Dropped as it is, it stays counted as a failure; a success (or an
/// attempt whose password was never checked) gives its reservation back with [`Attempt::release`].
pub struct Attempt {
    throttle: LoginThrottle,
    keys: AttemptKeys,
}

impl LoginThrottle {
    pub fn new(config: &Config, store: Arc<dyn AttemptCounters>) -> Self {
        Self {
            store,
            max_failures: config.login_max_failures,
            max_failures_per_address: config.login_max_failures_per_address(),
            max_failures_per_name: config.login_max_failures_per_name(),
            window: config.login_failure_window(),
            ipv6_prefix: config.login_ipv6_prefix,
            in_flight: Arc::default(),
        }
    }

    /// Reserves an attempt for the (canonical) `name` from `address`, or refuses it with
    /// TOO_MANY_REQUESTS: when a counter is full, or when the name or the address already has
    /// an attempt in flight here.
    pub async fn begin(
        &self,
        kind: AttemptKind,
        name: &str,
        address: Option<IpAddr>,
    ) -> Result<Attempt, ApiError> {
        let keys = self.keys(kind, name, address);
        let attempt = self.claim(keys)?;
        let mut buckets = vec![
            Bucket {
                key: &attempt.keys.pair,
                limit: self.max_failures,
            },
            Bucket {
                key: &attempt.keys.name,
                limit: self.max_failures_per_name,
            },
        ];
        if let Some(address) = &attempt.keys.address {
            buckets.push(Bucket {
                key: address,
                limit: self.max_failures_per_address,
            });
        }
        let reservation = self
            .store
            .reserve_attempt(&buckets, self.window)
            .await
            .map_err(store_error)?;
        match reservation {
            Reservation::Reserved => Ok(attempt),
            Reservation::Refused { retry_after } => {
                tracing::warn!(
                    kind = kind.as_str(),
                    name = ?name,
                    address = ?address,
                    retry_after_secs = retry_after.as_secs(),
                    "login refused: too many failed attempts"
                );
                Err(ApiError::TooManyRequests {
                    retry_after: retry_after.as_secs_f64().ceil() as u64,
                })
            }
        }
    }

    fn keys(&self, kind: AttemptKind, name: &str, address: Option<IpAddr>) -> AttemptKeys {
        let name: String = name.chars().take(MAX_KEY_NAME_CHARS).collect();
        let address = address.map(|ip| self.counted_network(ip));
        let kind = kind.as_str();
        AttemptKeys {
            pair: match &address {
                Some(address) => format!("login:{kind}:{name} from {address}"),
                None => format!("login:{kind}:{name} from unknown"),
            },
            address: address.map(|address| format!("login:ip:{address}")),
            name: format!("login:{kind}:{name}"),
        }
    }

    /// The network an address is counted under: an IPv4 address alone, an IPv6 address by its
    /// LOGIN_IPV6_PREFIX network (IPv4-mapped IPv6 counts as the IPv4 address).
    fn counted_network(&self, ip: IpAddr) -> IpNet {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpNet::from(IpAddr::V4(v4)),
            IpAddr::V6(v6) => IpNet::new(IpAddr::V6(v6), self.ipv6_prefix)
                .map_or_else(|_| IpNet::from(IpAddr::V6(v6)), |net| net.trunc()),
        }
    }

    /// Marks the attempt's name and address as in flight, or refuses when either already is.
    fn claim(&self, keys: AttemptKeys) -> Result<Attempt, ApiError> {
        let mut in_flight = self.lock_in_flight();
        let lanes = std::iter::once(&keys.name).chain(keys.address.as_ref());
        if lanes.clone().any(|lane| in_flight.contains(lane)) {
            return Err(ApiError::TooManyRequests { retry_after: 1 });
        }
        for lane in lanes {
            in_flight.insert(lane.clone());
        }
        drop(in_flight);
        Ok(Attempt {
            throttle: self.clone(),
            keys,
        })
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // The set is changed in single inserts and removes: a panic cannot leave it half-written.
        crate::lock::ignoring_poison(&self.in_flight)
    }
}

impl Attempt {
    /// Gives the reservation back: the attempt succeeded, or its password was never checked.
    /// The name's failures from this address are forgotten; the address's stay, or one good
    /// account would let an attacker reset the address between guesses at others.
    pub async fn release(self) -> Result<(), ApiError> {
        let mut release = vec![self.keys.name.as_str()];
        release.extend(self.keys.address.as_deref());
        self.throttle
            .store
            .release_attempt(&self.keys.pair, &release)
            .await
            .map_err(store_error)
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let mut in_flight = self.throttle.lock_in_flight();
        in_flight.remove(&self.keys.name);
        if let Some(address) = &self.keys.address {
            in_flight.remove(address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::liveness::MemoryTokenStore;

    fn throttle_with(ipv6_prefix: u8) -> LoginThrottle {
        let config = Config {
            login_ipv6_prefix: ipv6_prefix,
            ..Config::default()
        };
        LoginThrottle::new(&config, Arc::new(MemoryTokenStore::new(10)))
    }

    fn network(throttle: &LoginThrottle, ip: &str) -> String {
        throttle
            .counted_network(ip.parse().expect("an address"))
            .to_string()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_network() {
        let throttle = throttle_with(64);
        assert_eq!(
            network(&throttle, "2001:db8:1:2:3:4:5:6"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            network(&throttle, "2001:db8:1:2:ffff::1"),
            network(&throttle, "2001:db8:1:2::9")
        );
        assert_ne!(
            network(&throttle, "2001:db8:1:3::1"),
            network(&throttle, "2001:db8:1:2::1")
        );
        assert_eq!(
            network(&throttle_with(48), "2001:db8:1:2::1"),
            "2001:db8:1::/48"
        );
    }

    #[test]
    fn ipv4_clients_are_counted_alone_mapped_or_not() {
        let throttle = throttle_with(64);
        assert_eq!(network(&throttle, "198.51.100.7"), "198.51.100.7/32");
        assert_eq!(network(&throttle, "::ffff:198.51.100.7"), "198.51.100.7/32");
    }

    #[tokio::test]
    async fn one_name_or_address_has_one_attempt_in_flight() {
        let throttle = throttle_with(64);
        let address = Some("198.51.100.7".parse().expect("an address"));
        let first = throttle
            .begin(AttemptKind::User, "alice", address)
            .await
            .expect("the first attempt");
        for (name, from) in [("alice", None), ("bob", address)] {
            assert!(matches!(
                throttle.begin(AttemptKind::User, name, from).await,
                Err(ApiError::TooManyRequests { .. })
            ));
        }
        assert!(throttle.begin(AttemptKind::User, "bob", None).await.is_ok());
        drop(first);
        assert!(
            throttle
                .begin(AttemptKind::User, "alice", address)
                .await
                .is_ok()
        );
    }
}
