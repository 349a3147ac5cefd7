//! What `login` returns.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use crate::auth::{Principal, session::IssuedToken};

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// The JWT to send as `Authorization: Bearer <token>` or `X-AUTH-TOKEN: <token>`.
    pub token: String,
    /// When the token dies at the latest; it dies sooner when left unused for the idle TTL, or on logout.
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
}

impl From<(IssuedToken, Principal)> for AuthPayload {
    fn from((issued, principal): (IssuedToken, Principal)) -> Self {
        Self {
            token: issued.token,
            expires_at: issued.expires_at,
            principal,
        }
    }
}
