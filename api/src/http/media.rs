//! GraphQL-over-HTTP content negotiation: the `Accept` header picks the response's media type,
//! and the media type decides which status a GraphQL response travels with.

use axum::{
    extract::FromRequestParts,
    http::{
        HeaderValue, StatusCode,
        header::{ACCEPT, CONTENT_TYPE},
        request::Parts,
    },
    response::{IntoResponse, Response},
};

use super::graphql::error_response;
use crate::error::code;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The media type a GraphQL response is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/graphql-response+json`: a request that never executed (parse, validation or
    /// variable failures) is answered 400, as the GraphQL-over-HTTP spec and its audit expect.
    GraphQLResponseJson,
    /// `application/json`, the spec's legacy type: every GraphQL response is 200, because
    /// intermediaries may replace a non-2xx `application/json` body with their own.
    Json,
}

impl ResponseMedia {
    /// The preferred type `accept` allows, or `None` when it allows neither. No header, or only
    /// wildcards, means `application/json`: the spec keeps legacy clients on it until they ask
    /// for the new type by name.
    pub fn negotiate(accept: Option<&str>) -> Option<Self> {
        // An empty header says no more than a missing one.
        let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
            return Some(Self::Json);
        };
        let new = Preference::for_media(accept, GRAPHQL_RESPONSE_JSON);
        let legacy = Preference::for_media(accept, JSON);
        let best = new.max(legacy);
        if best.quality == 0 {
            return None;
        }
        // On a tie only a type named outright wins over legacy JSON.
        Some(if new > legacy || (new == legacy && new.named) {
            Self::GraphQLResponseJson
        } else {
            Self::Json
        })
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::GraphQLResponseJson => GRAPHQL_RESPONSE_JSON,
            Self::Json => JSON,
        }
    }

    fn status(self, answer: &Answer) -> StatusCode {
        match self {
            Self::GraphQLResponseJson if answer.refused => StatusCode::BAD_REQUEST,
            _ => StatusCode::OK,
        }
    }
}

/// How much an `Accept` header wants one media type: its quality in thousandths (q=0.5 → 500),
/// then how precisely a range matched it, then whether that was by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Preference {
    quality: u16,
    precision: u8,
    named: bool,
}

impl Preference {
    const NONE: Self = Self {
        quality: 0,
        precision: 0,
        named: false,
    };

    /// RFC 9110 §12.5.1: the most precise range matching `media` gives its quality.
    fn for_media(accept: &str, media: &str) -> Self {
        let (kind, _) = media.split_once('/').unwrap_or((media, ""));
        accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let range = parts.next()?.trim();
                let precision = if range.eq_ignore_ascii_case(media) {
                    3
                } else if range
                    .split_once('/')
                    .is_some_and(|(k, sub)| k.eq_ignore_ascii_case(kind) && sub == "*")
                {
                    2
                } else if range == "*/*" {
                    1
                } else {
                    return None;
                };
                Some(Self {
                    quality: parts.find_map(quality).unwrap_or(1000),
                    precision,
                    named: precision == 3,
                })
            })
            .max_by_key(|preference| preference.precision)
            .unwrap_or(Self::NONE)
    }
}

/// A `q=` parameter in thousandths; a malformed one counts as 0, so it never wins.
fn quality(parameter: &str) -> Option<u16> {
    let (name, value) = parameter.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("q") {
        return None;
    }
    let value: f32 = value.trim().parse().unwrap_or(0.0);
    Some((value.clamp(0.0, 1.0) * 1000.0).round() as u16)
}

/// The media type a request's `Accept` allows; a 406 with a coded body when it allows none.
impl<S: Send + Sync> FromRequestParts<S> for ResponseMedia {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        // An Accept header that is not text accepts nothing we can recognise.
        let accept = parts.headers.get(ACCEPT).map(|value| value.to_str().ok());
        let negotiated = match accept {
            None => Self::negotiate(None),
            Some(Some(accept)) => Self::negotiate(Some(accept)),
            Some(None) => None,
        };
        negotiated.ok_or_else(|| {
            error_response(
                StatusCode::NOT_ACCEPTABLE,
                "GraphQL responses are served as application/graphql-response+json or \
                 application/json; the Accept header allows neither",
                code::NOT_ACCEPTABLE,
                None,
            )
        })
    }
}

/// One operation's response, and whether it was refused before execution began (a request
/// error: the body then has no `data` entry, as the GraphQL spec asks).
pub struct Answer {
    pub response: async_graphql::Response,
    pub refused: bool,
}

impl Answer {
    pub fn executed(response: async_graphql::Response) -> Self {
        Self {
            response,
            refused: false,
        }
    }

    pub fn refused(response: async_graphql::Response) -> Self {
        Self {
            response,
            refused: true,
        }
    }

    /// The body, written straight from the response: the hot path builds no JSON tree. Only a
    /// refusal (rare) goes through one, to drop its `data` entry.
    fn into_body(self) -> Vec<u8> {
        let written = if self.refused {
            serde_json::to_value(&self.response).and_then(|mut body| {
                if let Some(body) = body.as_object_mut() {
                    body.remove("data");
                }
                serde_json::to_vec(&body)
            })
        } else {
            serde_json::to_vec(&self.response)
        };
        written.unwrap_or_else(|error| {
            tracing::error!(%error, "cannot serialise a GraphQL response");
            serde_json::to_vec(&serde_json::json!({ "errors": [{
                "message": "internal error",
                "extensions": { "code": code::INTERNAL_SERVER_ERROR },
            }] }))
            .unwrap_or_default()
        })
    }
}

/// The HTTP response for one operation, served as `media` with the status it calls for.
pub fn respond(media: ResponseMedia, mut answer: Answer) -> Response {
    let status = media.status(&answer);
    let headers = std::mem::take(&mut answer.response.http_headers);
    let mut response = serve(media, status, answer.into_body());
    response.headers_mut().extend(headers);
    response
}

/// The HTTP response for a batch, in order: always 200, since its entries may differ and each
/// says its own outcome.
pub fn respond_batch(media: ResponseMedia, answers: Vec<Answer>) -> Response {
    let mut body = vec![b'['];
    for (n, answer) in answers.into_iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend(answer.into_body());
    }
    body.push(b']');
    serve(media, StatusCode::OK, body)
}

fn serve(media: ResponseMedia, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    response
}

#[cfg(test)]
mod tests {
    use super::ResponseMedia::{self, GraphQLResponseJson, Json};

    fn negotiate(accept: &str) -> Option<ResponseMedia> {
        ResponseMedia::negotiate(Some(accept))
    }

    #[test]
    fn no_accept_header_or_only_wildcards_get_legacy_json() {
        assert_eq!(ResponseMedia::negotiate(None), Some(Json));
        assert_eq!(negotiate("*/*"), Some(Json));
        assert_eq!(negotiate("application/*"), Some(Json));
        assert_eq!(negotiate(""), Some(Json));
    }

    #[test]
    fn a_type_named_outright_is_served() {
        assert_eq!(
            negotiate("application/graphql-response+json"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(negotiate("application/json"), Some(Json));
        assert_eq!(
            negotiate("application/graphql-response+json, application/json;q=0.9"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate("application/json, application/graphql-response+json"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate("application/graphql-response+json;q=0.5, application/json"),
            Some(Json)
        );
        assert_eq!(
            negotiate("text/html, application/graphql-response+json; charset=utf-8"),
            Some(GraphQLResponseJson)
        );
    }

    #[test]
    fn a_named_type_beats_a_wildcard_of_equal_quality() {
        assert_eq!(
            negotiate("*/*, application/graphql-response+json"),
            Some(GraphQLResponseJson)
        );
        assert_eq!(
            negotiate("application/graphql-response+json;q=0, */*"),
            Some(Json)
        );
    }

    #[test]
    fn nothing_acceptable_is_refused() {
        assert_eq!(negotiate("text/html"), None);
        assert_eq!(negotiate("text/html, image/png;q=0.9"), None);
        assert_eq!(negotiate("application/json;q=0"), None);
        assert_eq!(negotiate("application/json;q=zero"), None);
    }
}
