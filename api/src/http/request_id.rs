//! Request ids: the caller's own `x-request-id` when it sent a sane one (so a request can be
//! followed across services), else one of ours.
//!
//! Ours are a random prefix drawn once per process and a counter: as unique as a random UUID for
//! finding a request's log lines, without a `getrandom` system call per request.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderValue};
use rand::Rng;

pub const X_REQUEST_ID: &str = "x-request-id";
/// Longer incoming ids are replaced: they only bloat every log line.
const MAX_INCOMING_ID_BYTES: usize = 64;

pub struct RequestIds {
    prefix: u32,
    next: AtomicU64,
}

impl RequestIds {
    pub fn new() -> Self {
        Self {
            prefix: rand::rng().random(),
            next: AtomicU64::new(0),
        }
    }

    pub fn for_request(&self, headers: &HeaderMap) -> HeaderValue {
        let incoming = headers.get(X_REQUEST_ID).filter(|value| {
            !value.is_empty()
                && value.len() <= MAX_INCOMING_ID_BYTES
                && value.as_bytes().iter().all(|b| b.is_ascii_graphic())
        });
        match incoming {
            Some(value) => value.clone(),
            None => self.make(),
        }
    }

    fn make(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .unwrap_or(HeaderValue::from_static("-"))
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_share_the_process_prefix() {
        let ids = RequestIds::new();
        let first = ids.for_request(&HeaderMap::new());
        let second = ids.for_request(&HeaderMap::new());
        assert_ne!(first, second);
        let prefix = |id: &HeaderValue| {
            id.to_str()
                .expect("ascii")
                .split('-')
                .next()
                .map(str::to_owned)
        };
        assert_eq!(prefix(&first), prefix(&second));
    }

    #[test]
    fn a_sane_incoming_id_is_kept_and_others_replaced() {
        let ids = RequestIds::new();
        let mut headers = HeaderMap::new();
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("upstream-42"));
        assert_eq!(ids.for_request(&headers), "upstream-42");
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("has space"));
        assert_ne!(ids.for_request(&headers), "has space");
        headers.insert(
            X_REQUEST_ID,
            HeaderValue::from_str(&"x".repeat(65)).expect("ascii"),
        );
        assert_ne!(ids.for_request(&headers).len(), 65);
    }
}
