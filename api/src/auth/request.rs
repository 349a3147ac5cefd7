//! RequestAuth: what the HTTP layer learned about the caller, put in the GraphQL request data once.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use uuid::Uuid;

use super::Principal;
use crate::error::ApiError;

/// The client's address, put in request extensions (and GraphQL request data) by the HTTP layer,
/// for the resolvers that count or record it (logins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The JEECG convention, accepted beside `Authorization: Bearer`.
pub const X_AUTH_TOKEN: &str = "x-auth-token";

/// A live token and whom it stands for.
#[derive(Debug, Clone)]
pub struct Session {
    pub jti: Uuid,
    pub principal: Principal,
    /// The token's absolute expiry (JWT `exp`, seconds since 1970): what outlives one request
    /// (a subscription) must end by it.
    pub expires_at: i64,
}

/// The outcome of authenticating one request. Kept whole rather than failing early, so that public
/// fields still run and a guard can tell "no valid token" from "could not check the token".
#[derive(Debug, Clone)]
pub enum RequestAuth {
    Anonymous,
    Authenticated(Session),
    /// Malformed, badly signed, expired or revoked.
    Rejected,
    /// The liveness store could not answer; nothing may pass unchecked.
    StoreUnavailable,
}

impl RequestAuth {
    pub fn session(&self) -> Result<&Session, ApiError> {
        match self {
            Self::Authenticated(session) => Ok(session),
            Self::Anonymous => Err(ApiError::Unauthenticated),
            Self::Rejected => Err(ApiError::InvalidToken),
            Self::StoreUnavailable => Err(ApiError::Unavailable {
                dependency: "token store",
            }),
        }
    }

    pub fn principal(&self) -> Result<&Principal, ApiError> {
        self.session().map(|session| &session.principal)
    }
}

/// What the request's headers carry: nothing, a token, or something that is not a token.
#[derive(Debug, PartialEq, Eq)]
pub enum PresentedToken<'a> {
    None,
    Token(&'a str),
    Malformed,
}

/// Reads `Authorization: Bearer <jwt>`, else `X-AUTH-TOKEN: <jwt>`. A header given twice, or both
/// headers with different tokens, is malformed: which one a proxy or a framework honours differs,
/// and that ambiguity is how a smuggled credential gets through.
pub fn presented_token(headers: &HeaderMap) -> PresentedToken<'_> {
    let bearer = match single(headers, AUTHORIZATION.as_str()) {
        Single::None => None,
        Single::One(value) => match strip_bearer(value) {
            Some(token) => Some(token),
            None => return PresentedToken::Malformed,
        },
        Single::Many => return PresentedToken::Malformed,
    };
    let x_auth = match single(headers, X_AUTH_TOKEN) {
        Single::None => None,
        Single::One(value) => Some(value.trim()),
        Single::Many => return PresentedToken::Malformed,
    };
    let token = match (bearer, x_auth) {
        (Some(a), Some(b)) if a != b => return PresentedToken::Malformed,
        (Some(token), _) | (None, Some(token)) => token,
        (None, None) => return PresentedToken::None,
    };
    if token.is_empty() {
        PresentedToken::Malformed
    } else {
        PresentedToken::Token(token)
    }
}

enum Single<'a> {
    None,
    One(&'a str),
    Many,
}

/// The header's only value; a second value or one that is not visible ASCII counts as `Many`.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Single<'a> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Single::None,
        (Some(value), None) => value.to_str().map_or(Single::Many, Single::One),
        (Some(_), Some(_)) => Single::Many,
    }
}

fn strip_bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_and_x_auth_token_are_both_read() {
        assert_eq!(
            presented_token(&headers(&[("authorization", "Bearer abc")])),
            PresentedToken::Token("abc")
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "bearer  abc ")])),
            PresentedToken::Token("abc")
        );
        assert_eq!(
            presented_token(&headers(&[("x-auth-token", "abc")])),
            PresentedToken::Token("abc")
        );
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_malformed() {
        assert_eq!(
            presented_token(&headers(&[("authorization", "Basic abc")])),
            PresentedToken::Malformed
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "Bearer ")])),
            PresentedToken::Malformed
        );
        assert_eq!(
            presented_token(&headers(&[("x-auth-token", "")])),
            PresentedToken::Malformed
        );
    }

    #[test]
    fn repeated_or_conflicting_credentials_are_malformed() {
        let mut twice = HeaderMap::new();
        twice.append("authorization", HeaderValue::from_static("Bearer abc"));
        twice.append("authorization", HeaderValue::from_static("Bearer def"));
        assert_eq!(presented_token(&twice), PresentedToken::Malformed);
        let both = headers(&[("authorization", "Bearer abc"), ("x-auth-token", "def")]);
        assert_eq!(presented_token(&both), PresentedToken::Malformed);
        let same = headers(&[("authorization", "Bearer abc"), ("x-auth-token", "abc")]);
        assert_eq!(presented_token(&same), PresentedToken::Token("abc"));
    }

    #[test]
    fn no_header_is_anonymous() {
        assert_eq!(presented_token(&HeaderMap::new()), PresentedToken::None);
    }
}
