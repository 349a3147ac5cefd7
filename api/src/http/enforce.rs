//! Refuses blacklisted clients before anything else runs, and records every client's address.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::Response,
};

use super::{
    client_ip::{ClientIp, client_ip},
    graphql::error_response,
    server::HttpState,
};
use crate::error::{ApiError, IP_BLACKLISTED};

pub async fn refuse_blacklisted(
    State(http): State<Arc<HttpState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_ip(peer.ip(), request.headers(), &http.trusted_proxies);
    if http.state.blacklist.contains(client) {
        tracing::info!(%client, "refused a blacklisted client");
        return refused(&request);
    }
    request.extensions_mut().insert(ClientIp(client));
    next.run(request).await
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
