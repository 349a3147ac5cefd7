//! CORS: which browser pages on other origins may call the API (CORS_ALLOWED_ORIGINS), answered
//! around the whole router so that refusals (413, 415, 429, a panic's 500) reach those pages too.

use std::time::Duration;

use axum::http::{
    HeaderName, HeaderValue, Method,
    header::{AUTHORIZATION, CONTENT_TYPE},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::request_id::X_REQUEST_ID;
use crate::{auth::request::X_AUTH_TOKEN, config::AllowedOrigin};

/// How long a browser may reuse a preflight's answer: it saves a round trip per request, and
/// ten minutes is Chromium's own upper bound.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The layer for `origins`, or `None` when there are none: then no response carries CORS
/// headers, and browsers keep every page to its own origin.
///
/// Credentials are never allowed: the API authenticates by the `Authorization` or `X-AUTH-TOKEN`
/// header, which a page sends explicitly, not by cookies a browser would attach on its own.
pub fn layer(origins: &[AllowedOrigin]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.contains(&AllowedOrigin::Any) {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|origin| match origin {
            AllowedOrigin::Exact(origin) => HeaderValue::from_str(origin).ok(),
            AllowedOrigin::Any => None,
        }))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::POST, Method::GET])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                HeaderName::from_static(X_AUTH_TOKEN),
            ])
            // Lets a page quote the id of a failed request when it reports it.
            .expose_headers([HeaderName::from_static(X_REQUEST_ID)])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}
