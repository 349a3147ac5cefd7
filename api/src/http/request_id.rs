//! Request ids: unique per process run and cheap to make.
//!
//! A random UUID per request costs a `getrandom` system call; a random prefix drawn once per
//! process and a counter are just as unique for finding a request's log lines.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use axum::http::{HeaderValue, Request};
use rand::Rng;
use tower_http::request_id::{MakeRequestId, RequestId};

#[derive(Clone)]
pub struct RequestIds {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    pub fn new() -> Self {
        Self {
            prefix: rand::rng().random(),
            next: Arc::default(),
        }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_share_the_process_prefix() {
        let mut ids = RequestIds::new();
        let request = Request::new(());
        let first = ids.make_request_id(&request).expect("an id");
        let second = ids.make_request_id(&request).expect("an id");
        assert_ne!(first.header_value(), second.header_value());
        let prefix = |id: &RequestId| {
            id.header_value()
                .to_str()
                .expect("ascii")
                .split('-')
                .next()
                .map(str::to_owned)
        };
        assert_eq!(prefix(&first), prefix(&second));
    }
}
