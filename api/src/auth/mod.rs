//! Who is calling: principals and their permissions, tokens, the liveness store and the guards.

pub mod guard;
mod hash_threads;
pub mod jwt;
pub mod liveness;
pub mod name;
pub mod password;
pub mod permission;
pub mod principal;
pub mod request;
pub mod session;
pub mod throttle;

pub use principal::{Principal, PrincipalKind};
pub use request::RequestAuth;
