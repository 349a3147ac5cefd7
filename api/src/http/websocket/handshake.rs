//! The handshake of graphql-transport-ws: the client's first message must be `connection_init`,
//! whose payload carries the token as the HTTP headers would (`Authorization: Bearer …` or
//! `X-AUTH-TOKEN`, keys in any case), checked by the same code that checks headers.

use async_graphql::http::ClientMessage;
use axum::{
    extract::ws::{Message, WebSocket},
    http::{HeaderMap, HeaderName, HeaderValue, header::AUTHORIZATION},
};
use futures_util::{StreamExt, stream::SplitStream};

use crate::auth::{
    RequestAuth,
    request::{Session, X_AUTH_TOKEN},
    session::Sessions,
};

/// Why a socket closes: its close code and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: &'static str,
}

pub const FORBIDDEN: CloseReason = CloseReason {
    code: 4403,
    reason: "Forbidden",
};
pub const INIT_TIMEOUT: CloseReason = CloseReason {
    code: 4408,
    reason: "Connection initialisation timeout",
};
pub const STORE_UNAVAILABLE: CloseReason = CloseReason {
    code: 1011,
    reason: "the token store is unavailable",
};
const UNAUTHORIZED: CloseReason = CloseReason {
    code: 4401,
    reason: "Unauthorized",
};
const BAD_MESSAGE: CloseReason = CloseReason {
    code: 4400,
    reason: "the first message must be connection_init",
};

/// Reads the first message and authenticates its payload. (The caller bounds the wait.)
pub async fn authenticate(
    incoming: &mut SplitStream<WebSocket>,
    sessions: &Sessions,
) -> Result<Session, CloseReason> {
    let payload = loop {
        let data = match incoming.next().await {
            Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
            Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
            // Control frames (ping, pong) are the socket's business, not the protocol's.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => return Err(BAD_MESSAGE),
        };
        match ClientMessage::from_bytes(data) {
            Ok(ClientMessage::ConnectionInit { payload }) => break payload.unwrap_or_default(),
            // The protocol's answer to anything before the acknowledgement.
            Ok(_) => return Err(UNAUTHORIZED),
            Err(_) => return Err(BAD_MESSAGE),
        }
    };
    let Some(headers) = credentials(&payload) else {
        return Err(FORBIDDEN);
    };
    match sessions.authenticate(&headers).await {
        RequestAuth::Authenticated(session) => Ok(session),
        RequestAuth::StoreUnavailable => Err(STORE_UNAVAILABLE),
        RequestAuth::Anonymous | RequestAuth::Rejected => Err(FORBIDDEN),
    }
}

/// The payload's credentials as the headers that would carry them; `None` when one is not a
/// string a header could hold. Keys that differ only in case become two values of one header,
/// which the header check refuses as ambiguous, as it refuses a header sent twice.
fn credentials(payload: &serde_json::Value) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    let Some(fields) = payload.as_object() else {
        return payload.is_null().then_some(headers);
    };
    for (key, value) in fields {
        let name = if key.eq_ignore_ascii_case(AUTHORIZATION.as_str()) {
            AUTHORIZATION
        } else if key.eq_ignore_ascii_case(X_AUTH_TOKEN) {
            HeaderName::from_static(X_AUTH_TOKEN)
        } else {
            continue;
        };
        let value = HeaderValue::from_str(value.as_str()?).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::request::{PresentedToken, presented_token};

    #[test]
    fn either_key_in_any_case_carries_the_token() {
        for payload in [
            json!({ "Authorization": "Bearer abc" }),
            json!({ "authorization": "bearer abc" }),
            json!({ "X-AUTH-TOKEN": "abc" }),
            json!({ "x-auth-token": "abc", "other": 1 }),
        ] {
            let headers = credentials(&payload).expect("readable credentials");
            assert_eq!(
                presented_token(&headers),
                PresentedToken::Token("abc"),
                "{payload}"
            );
        }
    }

    #[test]
    fn no_payload_is_anonymous_and_odd_values_are_refused() {
        let headers = credentials(&serde_json::Value::Null).expect("no payload is no credentials");
        assert_eq!(presented_token(&headers), PresentedToken::None);
        assert!(credentials(&json!({ "Authorization": 42 })).is_none());
        assert!(credentials(&json!("Bearer abc")).is_none());
        let twice = json!({ "Authorization": "Bearer abc", "AUTHORIZATION": "Bearer def" });
        let headers = credentials(&twice).expect("two strings");
        assert_eq!(presented_token(&headers), PresentedToken::Malformed);
    }
}
