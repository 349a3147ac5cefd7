//! GraphQL subscriptions over WebSocket on /graphql, in the graphql-transport-ws protocol: the
//! upgrade here, the `connection_init` handshake in `handshake`, the open socket in `socket`.
//!
//! Close codes: 4403 when the token is missing, bad, or ends (logged out, revoked, expired,
//! a permission withdrawn); 4408 when no `connection_init` arrives in time; 1011 when the token
//! store cannot answer (fail closed: nothing runs unchecked, and the client may retry); 1001
//! when the server shuts down.

mod handshake;
mod socket;

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, Request, State, WebSocketUpgrade},
    http::{
        Method, StatusCode,
        header::{SEC_WEBSOCKET_PROTOCOL, UPGRADE},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use super::{
    client_ip::ClientIp, connection::ConnectionLease, graphql::error_response, server::HttpState,
};
use crate::error::code;

/// The only subprotocol spoken (graphql-ws's); the legacy `graphql-ws` of
/// subscriptions-transport-ws has other close semantics and is refused.
const PROTOCOL: &str = "graphql-transport-ws";

/// Takes a WebSocket upgrade of /graphql, and hands every other request on to the HTTP handlers.
pub async fn upgrade(State(http): State<Arc<HttpState>>, request: Request, next: Next) -> Response {
    if !asks_for_websocket(&request) {
        return next.run(request).await;
    }
    let (mut parts, _body) = request.into_parts();
    let offers_protocol = parts
        .headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|offered| offered.trim() == PROTOCOL);
    if !offers_protocol {
        return refuse(&format!("ask for the {PROTOCOL} subprotocol"));
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return refuse(&rejection.body_text()),
    };
    // The front door put the client there, and the connection its lease (any upgrade request).
    let (Some(client), Some(lease)) = (
        parts.extensions.get::<ClientIp>().copied(),
        parts.extensions.get::<ConnectionLease>().cloned(),
    ) else {
        tracing::error!("a WebSocket upgrade arrived without its client address or lease");
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            code::INTERNAL_SERVER_ERROR,
            None,
        );
    };
    // A message is bounded as a request body is.
    let span = tracing::Span::current();
    upgrade
        .protocols([PROTOCOL])
        .max_message_size(http.body_limit)
        .max_frame_size(http.body_limit)
        .on_upgrade(move |websocket| socket::serve(websocket, http, client, lease).instrument(span))
        .into_response()
}

fn asks_for_websocket(request: &Request) -> bool {
    request.method() == Method::GET
        && request
            .headers()
            .get(UPGRADE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

fn refuse(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, message, code::BAD_REQUEST, None)
}
