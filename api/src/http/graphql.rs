//! The /graphql endpoint: authenticate once, execute, and answer malformed requests in GraphQL's shape.

use async_graphql::{
    ParseRequestError,
    http::GraphiQLSource,
    parser::types::{ExecutableDocument, OperationType},
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

use super::server::HttpState;
use crate::{error::code, graphql::error_codes};

/// POST /graphql.
pub async fn execute(
    State(http): State<HttpState>,
    headers: HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> GraphQLResponse {
    let mut request = request.into_inner();
    match http.documents.parse(&request.query) {
        Ok(document) => request.set_parsed_query(document),
        Err(error) => return error_codes::parse_failed(error).into(),
    }
    authenticate_and_execute(&http, &headers, request)
        .await
        .into()
}

/// GET /graphql: the GraphiQL playground for a browser, or a query sent in the URL.
pub async fn get(State(http): State<HttpState>, headers: HeaderMap, uri: Uri) -> Response {
    let query_string = uri.query().unwrap_or_default();
    if query_string.is_empty() {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let mut request = match async_graphql::http::parse_query_string(query_string) {
        Ok(request) => request,
        Err(error) => return bad_request(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let document = match http.documents.parse(&request.query) {
        Ok(document) => document,
        Err(error) => {
            return GraphQLResponse::from(error_codes::parse_failed(error)).into_response();
        }
    };
    // A GET must not change anything: links and prefetches would otherwise fire mutations.
    if is_mutation(&document, request.operation_name.as_deref()) {
        return bad_request(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
        );
    }
    request.set_parsed_query(document);
    GraphQLResponse::from(authenticate_and_execute(&http, &headers, request).await).into_response()
}

/// The token work happens here, once per request, and its outcome rides in the request data.
async fn authenticate_and_execute(
    http: &HttpState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> async_graphql::Response {
    let auth = http.state.sessions.authenticate(headers).await;
    let mut response = http.schema.execute(request.data(auth)).await;
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
        let too_large = match &self.0 {
            ParseRequestError::PayloadTooLarge => true,
            // The body-limit layer cuts a streamed body short with this error.
            ParseRequestError::Io(error) => error.to_string().contains("length limit exceeded"),
            _ => false,
        };
        if too_large {
            return bad_request(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            );
        }
        bad_request(StatusCode::BAD_REQUEST, &self.0.to_string())
    }
}

fn bad_request(status: StatusCode, message: &str) -> Response {
    error_response(status, message, code::BAD_REQUEST)
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
    )
}

fn error_response(status: StatusCode, message: &str, code: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}
