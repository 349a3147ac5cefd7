//! The front door every request passes: it gets a request id and a log span, its client address
//! is worked out (a proxy chain that cannot be read is refused), and a blacklisted client is
//! refused before anything else runs.
//!
//! One middleware rather than a stack of tower layers: each layer costs a little on every request.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use super::{
    client_ip::{ClientIp, UnreadableHop, client_ip},
    graphql::error_response,
    request_id::X_REQUEST_ID,
    server::HttpState,
};
use crate::error::{ApiError, FORWARDED_FOR_UNREADABLE, IP_BLACKLISTED, code};

pub async fn front_door(
    State(http): State<Arc<HttpState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let id = http.request_ids.for_request(request.headers());
    // Every log line of a request, internal errors included, carries its id.
    let span = tracing::info_span!(
        "request",
        id = id.to_str().unwrap_or_default(),
        method = %request.method(),
        path = request.uri().path()
    );
    async move {
        tracing::debug!("started processing request");
        let mut response = match client_ip(peer.ip(), request.headers(), &http.trusted_proxies) {
            Err(unreadable) => {
                // The peer is one of our proxies, so its address says where to look for a fault.
                tracing::warn!(%peer, reason = %unreadable, "refused a request with an unreadable X-Forwarded-For");
                unreadable_forwarded_for(unreadable)
            }
            Ok(client) => admit(&http, client, request, next).await,
        };
        tracing::debug!(status = response.status().as_u16(), "answered");
        response.headers_mut().insert(X_REQUEST_ID, id);
        response
    }
    .instrument(span)
    .await
}

/// Refuses a blacklisted client, or lets the request through with its address attached.
async fn admit(http: &HttpState, client: IpAddr, mut request: Request, next: Next) -> Response {
    if http.state.blacklist.contains(client) {
        tracing::info!(%client, "refused a blacklisted client");
        refused(&request)
    } else {
        request.extensions_mut().insert(ClientIp(client));
        next.run(request).await
    }
}

/// HTTP 400 on every route: the request itself is malformed, whatever it asks for.
fn unreadable_forwarded_for(unreadable: UnreadableHop) -> Response {
    let message = format!("cannot tell the client address: {unreadable}");
    error_response(
        StatusCode::BAD_REQUEST,
        &message,
        code::BAD_REQUEST,
        Some(FORWARDED_FOR_UNREADABLE),
    )
}

/// A GraphQL request gets a GraphQL error; any other route a plain 403 with the same body.
fn refused(request: &Request) -> Response {
    let is_graphql = request.uri().path() == "/graphql"
        && (request.method() == Method::POST
            || request.uri().query().is_some_and(|q| !q.is_empty()));
    let status = if is_graphql {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let error = ApiError::IpBlacklisted;
    error_response(
        status,
        &error.to_string(),
        error.code(),
        Some(IP_BLACKLISTED),
    )
}
