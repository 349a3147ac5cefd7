//! The /graphql endpoint: check the request's limits, authenticate once, execute with a deadline,
//! and answer malformed requests in GraphQL's shape.

use std::{sync::Arc, time::Duration};

use async_graphql::{
    BatchRequest, BatchResponse, ParseRequestError, ServerError,
    http::GraphiQLSource,
    parser::types::{ExecutableDocument, OperationType},
};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::{
    Extension, Json,
    body::Body,
    extract::{FromRequest, Request, State},
    http::{
        HeaderMap, HeaderValue, StatusCode, Uri,
        header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE},
    },
    response::{Html, IntoResponse, Response},
};
use http_body_util::Limited;
use serde_json::json;

use super::{body_deadline::BODY_TIMED_OUT, client_ip::ClientIp, server::HttpState};
use crate::{
    auth::RequestAuth,
    error::code,
    graphql::{documents::Parsed, error_codes, variables},
};

/// Request limits checked before execution, beyond the schema's own depth and complexity limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_aliases: usize,
    pub max_batch: usize,
    pub timeout: Duration,
    pub playground: bool,
    pub introspection: bool,
}

/// POST /graphql: one operation, or a JSON array of at most BATCH_MAX_SIZE of them.
pub async fn execute(
    State(http): State<Arc<HttpState>>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    JsonBody(request): JsonBody,
) -> Response {
    match request {
        BatchRequest::Single(request) => {
            let response = match prepare(&http, request) {
                Ok(request) => {
                    let auth = http.state.sessions.authenticate(&headers).await;
                    run(&http, request, auth, client).await
                }
                Err(refused) => *refused,
            };
            GraphQLResponse::from(response).into_response()
        }
        BatchRequest::Batch(requests) => {
            if requests.len() > http.limits.max_batch {
                let message = format!(
                    "a batch must hold 1 to {} operations",
                    http.limits.max_batch
                );
                return bad_request(StatusCode::BAD_REQUEST, &message);
            }
            let auth = http.state.sessions.authenticate(&headers).await;
            let mut responses = Vec::with_capacity(requests.len());
            // One after another: a batch must not multiply the load one request can cause.
            for request in requests {
                responses.push(match prepare(&http, request) {
                    Ok(request) => run(&http, request, auth.clone(), client).await,
                    Err(refused) => *refused,
                });
            }
            GraphQLResponse::from(BatchResponse::Batch(responses)).into_response()
        }
    }
}

/// GET /graphql: the GraphiQL playground for a browser, or a query sent in the URL.
pub async fn get(
    State(http): State<Arc<HttpState>>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let query_string = uri.query().unwrap_or_default();
    if query_string.is_empty() {
        if !http.limits.playground {
            return bad_request(StatusCode::NOT_FOUND, "the playground is switched off");
        }
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let request = match async_graphql::http::parse_query_string(query_string) {
        Ok(request) => request,
        Err(error) => return bad_request(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let operation_name = request.operation_name.clone();
    let mut request = match prepare(&http, request) {
        Ok(request) => request,
        Err(refused) => return GraphQLResponse::from(*refused).into_response(),
    };
    // A GET must not change anything: links and prefetches would otherwise fire mutations.
    let is_mutation = request
        .parsed_query()
        .is_ok_and(|doc| is_mutation(doc, operation_name.as_deref()));
    if is_mutation {
        return bad_request(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
        );
    }
    let auth = http.state.sessions.authenticate(&headers).await;
    GraphQLResponse::from(run(&http, request, auth, client).await).into_response()
}

/// Parses (through the cache) and checks the alias limit; a refusal is a ready response.
fn prepare(
    http: &HttpState,
    mut request: async_graphql::Request,
) -> Result<async_graphql::Request, Box<async_graphql::Response>> {
    let Parsed {
        document,
        aliases,
        introspects,
    } = http
        .documents
        .parse(&request.query)
        .map_err(error_codes::parse_failed)?;
    if aliases > http.limits.max_aliases {
        let message = format!(
            "the document has {aliases} aliases; at most {} are allowed",
            http.limits.max_aliases
        );
        return Err(Box::new(error_codes::validation_failed(message)));
    }
    if introspects && !http.limits.introspection {
        return Err(Box::new(error_codes::validation_failed(
            "introspection is switched off".to_owned(),
        )));
    }
    if let Some(operation) =
        variables::selected_operation(&document, request.operation_name.as_deref())
    {
        variables::check(operation, &request.variables)
            .map_err(|message| Box::new(error_codes::validation_failed(message)))?;
    }
    request.set_parsed_query(document);
    Ok(request)
}

/// Executes with the caller's identity in the request data, within the request deadline.
async fn run(
    http: &HttpState,
    request: async_graphql::Request,
    auth: RequestAuth,
    client: ClientIp,
) -> async_graphql::Response {
    let request = request.data(auth).data(client);
    // On timeout the execution future is dropped: an open transaction rolls back, nothing is half-written.
    let mut response =
        match tokio::time::timeout(http.limits.timeout, http.schema.execute(request)).await {
            Ok(response) => response,
            Err(_) => {
                let mut error = ServerError::new("the request took too long and was stopped", None);
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::TIMEOUT);
                async_graphql::Response::from_errors(vec![error])
            }
        };
    error_codes::fill_missing(&mut response);
    response
}

fn is_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    document
        .operations
        .iter()
        .filter(|(name, _)| operation_name.is_none() || name.map(|n| n.as_str()) == operation_name)
        .any(|(_, operation)| operation.node.ty == OperationType::Mutation)
}

/// A POST body, accepted only as JSON: a browser sends text/plain and form bodies cross-site
/// without asking first, so accepting them would open the door to request forgery.
pub struct JsonBody(BatchRequest);

impl FromRequest<Arc<HttpState>> for JsonBody {
    type Rejection = Response;

    async fn from_request(request: Request, http: &Arc<HttpState>) -> Result<Self, Response> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(str::trim)
            .is_some_and(|media| media.eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(bad_request(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the request as Content-Type: application/json",
            ));
        }
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        if declared.is_some_and(|length| length > http.body_limit) {
            return Err(too_large_response());
        }
        // A body without a declared length (chunked) is cut off where it passes the limit.
        let request = request.map(|body| Body::new(Limited::new(body, http.body_limit)));
        GraphQLBatchRequest::<BadRequest>::from_request(request, http)
            .await
            .map(|batch| Self(batch.into_inner()))
            .map_err(IntoResponse::into_response)
    }
}

fn too_large_response() -> Response {
    bad_request(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is too large",
    )
}

/// A request that is not GraphQL at all (bad JSON, too large): the status says so, and the body
/// still has GraphQL's `errors` shape with a code, so clients need only one error path.
pub struct BadRequest(ParseRequestError);

impl From<ParseRequestError> for BadRequest {
    fn from(error: ParseRequestError) -> Self {
        Self(error)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        // A body cut short says why only in its error text.
        let io_error = match &self.0 {
            ParseRequestError::Io(error) => error.to_string(),
            _ => String::new(),
        };
        let too_large = matches!(self.0, ParseRequestError::PayloadTooLarge)
            || io_error.contains("length limit exceeded");
        if too_large {
            return bad_request(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            );
        }
        if io_error.contains(BODY_TIMED_OUT) {
            // The rest of the body is never read, so the connection cannot carry another request.
            let mut response = bad_request(StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT);
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        bad_request(StatusCode::BAD_REQUEST, &self.0.to_string())
    }
}

fn bad_request(status: StatusCode, message: &str) -> Response {
    error_response(status, message, code::BAD_REQUEST, None)
}

/// A panic anywhere below becomes a 500 with a coded GraphQL error, never a dropped connection.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    tracing::error!(panic = detail, "request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error",
        code::INTERNAL_SERVER_ERROR,
        None,
    )
}

/// A GraphQL-shaped error body for a request refused before execution.
pub fn error_response(
    status: StatusCode,
    message: &str,
    code: &str,
    reason: Option<&str>,
) -> Response {
    let mut extensions = json!({ "code": code });
    if let Some(reason) = reason {
        extensions["reason"] = json!(reason);
    }
    let body = json!({ "errors": [{ "message": message, "extensions": extensions }] });
    (status, Json(body)).into_response()
}
