//! The /graphql endpoint: check the request's limits, authenticate each operation, execute within
//! one deadline per request, and answer malformed requests in GraphQL's shape.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::{
    BatchRequest, ParseRequestError, ServerError,
    parser::types::{ExecutableDocument, OperationType},
};
use async_graphql_axum::GraphQLBatchRequest;
use axum::{
    Extension, Json,
    body::Body,
    extract::{FromRequest, Request, State},
    http::{
        HeaderMap, HeaderValue, StatusCode, Uri,
        header::{CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE},
    },
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    body_deadline::BODY_TIMED_OUT,
    client_ip::ClientIp,
    document_ids,
    media::{self, Answer, ResponseMedia},
    playground,
    server::HttpState,
};
use crate::{
    auth::RequestAuth,
    error::code,
    graphql::{
        analysis::{INTROSPECTION_MAX_DEPTH, Shape},
        documents::{self, Parsed, Unparsed},
        error_codes,
        tokens::TooManyTokens,
        variables,
    },
};

/// Request limits checked before execution, beyond the schema's own depth and complexity limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_aliases: usize,
    /// QUERY_MAX_DEPTH, for fields outside introspection (see [`INTROSPECTION_MAX_DEPTH`]).
    pub max_depth: usize,
    pub max_batch: usize,
    pub timeout: Duration,
    pub playground: bool,
    pub introspection: bool,
    pub max_tokens: usize,
    pub max_statements: usize,
}

/// POST /graphql: one operation, or a JSON array of at most BATCH_MAX_SIZE of them.
pub async fn execute(
    State(http): State<Arc<HttpState>>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    media: ResponseMedia,
    JsonBody(request): JsonBody,
) -> Response {
    let deadline = Instant::now() + http.limits.timeout;
    match request {
        BatchRequest::Single(request) => {
            let answer = answer(&http, request, &headers, client, deadline).await;
            media::respond(media, answer)
        }
        BatchRequest::Batch(requests) => {
            if requests.len() > http.limits.max_batch {
                let message = format!(
                    "a batch must hold 1 to {} operations",
                    http.limits.max_batch
                );
                return bad_request(StatusCode::BAD_REQUEST, &message);
            }
            let mut responses = Vec::with_capacity(requests.len());
            // One after another, all within one deadline: a batch must not multiply the load
            // or the time one request can take.
            for request in requests {
                responses.push(answer(&http, request, &headers, client, deadline).await);
            }
            media::respond_batch(media, responses)
        }
    }
}

/// One operation, authenticated as it starts: in a batch, a `logout` before it must bind it.
async fn answer(
    http: &HttpState,
    request: async_graphql::Request,
    headers: &HeaderMap,
    client: ClientIp,
    deadline: Instant,
) -> Answer {
    if Instant::now() >= deadline {
        return timed_out();
    }
    let work = async {
        let auth = http.state.sessions.authenticate(headers).await;
        match prepare_in_turn(http, request, &auth).await {
            Ok(prepared) => run(http, prepared, auth, client).await,
            Err(refused) => Answer::refused(*refused),
        }
    };
    // On timeout the execution future is dropped: an open transaction rolls back, nothing is half-written.
    tokio::time::timeout_at(deadline.into(), work)
        .await
        .unwrap_or_else(|_| timed_out())
}

/// GET /graphql: the GraphiQL playground for a browser, or a query sent in the URL.
pub async fn get(
    State(http): State<Arc<HttpState>>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    media: Result<ResponseMedia, Response>,
    uri: Uri,
) -> Response {
    let query_string = uri.query().unwrap_or_default();
    if query_string.is_empty() {
        if !http.limits.playground {
            return playground::switched_off();
        }
        return playground::page();
    }
    // Only a query is negotiated: the playground is HTML, whatever a GraphQL client accepts.
    let media = match media {
        Ok(media) => media,
        Err(not_acceptable) => return not_acceptable,
    };
    let mut request = match async_graphql::http::parse_query_string(query_string) {
        Ok(request) => request,
        Err(error) => return bad_request(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    if let Err(message) = document_ids::attach_from_uri(&uri, &mut request) {
        return bad_request(StatusCode::BAD_REQUEST, &message);
    }
    let operation_name = request.operation_name.clone();
    let deadline = Instant::now() + http.limits.timeout;
    let auth = http.state.sessions.authenticate(&headers).await;
    let mut prepared = match prepare_in_turn(&http, request, &auth).await {
        Ok(prepared) => prepared,
        Err(refused) => return media::respond(media, Answer::refused(*refused)),
    };
    // A GET must not change anything: links and prefetches would otherwise fire mutations.
    let is_mutation = prepared
        .request
        .parsed_query()
        .is_ok_and(|doc| is_mutation(doc, operation_name.as_deref()));
    if is_mutation {
        return bad_request(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
        );
    }
    let answer = tokio::time::timeout_at(deadline.into(), run(&http, prepared, auth, client))
        .await
        .unwrap_or_else(|_| timed_out());
    media::respond(media, answer)
}

/// A request ready to run, and the document to cache if it passes validation.
struct Prepared {
    request: async_graphql::Request,
    fresh: Option<(String, Parsed)>,
}

/// Whether a document that arrives another way (a WebSocket `subscribe`) passes what a POST's
/// must before it runs: trusted documents, tokens, aliases, repeated keys, depth, statements and
/// variables. The socket's protocol parses it again to run it; this only decides whether it may.
pub async fn passes_checks(
    http: &HttpState,
    request: async_graphql::Request,
    auth: &RequestAuth,
) -> bool {
    prepare_in_turn(http, request, auth).await.is_ok()
}

/// [`prepare`] from the cache, or, for a document not in it, parsed once it is this request's turn
/// (see [`HttpState::unvetted`]): the turn covers the parse, not the execution. A persisted
/// document's id is resolved first, and in `enforced` mode an untrusted document goes no further.
async fn prepare_in_turn(
    http: &HttpState,
    mut request: async_graphql::Request,
    auth: &RequestAuth,
) -> Result<Prepared, Box<async_graphql::Response>> {
    http.trusted.resolve(&mut request)?;
    let cached = http.documents.get(&request.query);
    let _turn = match cached {
        Some(_) => None,
        None => http.unvetted.acquire().await.ok(),
    };
    prepare(http, request, auth, cached)
}

/// Parses (unless `cached`) and checks the document limits; a refusal is a ready response.
fn prepare(
    http: &HttpState,
    mut request: async_graphql::Request,
    auth: &RequestAuth,
    cached: Option<Parsed>,
) -> Result<Prepared, Box<async_graphql::Response>> {
    let (parsed, fresh) = match cached {
        Some(parsed) => (parsed, false),
        None => (parse(&request.query, http.limits.max_tokens)?, true),
    };
    let Shape {
        aliases,
        introspects,
        repeated,
        statements,
        too_large,
        depth,
        introspection_depth,
    } = &parsed.shape;
    let refusal = if *aliases > http.limits.max_aliases {
        Some(format!(
            "the document has {aliases} aliases; at most {} are allowed",
            http.limits.max_aliases
        ))
    } else if *introspects && !http.limits.introspection {
        Some("introspection is switched off".to_owned())
    } else if let Some(key) = repeated {
        Some(format!(
            "`{key}` is selected more than once in one selection set; merge the selections, \
             or give each its own alias"
        ))
    } else if *too_large {
        Some("the document expands to too many fields".to_owned())
    } else if *depth > http.limits.max_depth {
        Some(format!(
            "the document nests fields {depth} deep; at most {} are allowed",
            http.limits.max_depth
        ))
    } else if *introspection_depth > INTROSPECTION_MAX_DEPTH {
        Some(format!(
            "the introspection nests fields {introspection_depth} deep; at most \
             {INTROSPECTION_MAX_DEPTH} are allowed"
        ))
    } else if *statements > http.limits.max_statements {
        Some(format!(
            "the document may run {statements} database statements; at most {} are allowed",
            http.limits.max_statements
        ))
    } else {
        None
    };
    if let Some(message) = refusal {
        return Err(Box::new(error_codes::validation_failed(message)));
    }
    if let Some(operation) =
        variables::selected_operation(&parsed.document, request.operation_name.as_deref())
    {
        variables::check(operation, &request.variables)
            .map_err(|message| Box::new(error_codes::validation_failed(message)))?;
    }
    // Only an authenticated caller's documents are kept, so an anonymous one leaves nothing behind.
    let fresh = (fresh && matches!(auth, RequestAuth::Authenticated(_)))
        .then(|| (request.query.clone(), parsed.clone()));
    request.set_parsed_query(parsed.document);
    Ok(Prepared { request, fresh })
}

fn parse(query: &str, max_tokens: usize) -> Result<Parsed, Box<async_graphql::Response>> {
    documents::parse(query, max_tokens).map_err(|unparsed| {
        Box::new(match unparsed {
            Unparsed::Syntax(error) => error_codes::parse_failed(error),
            Unparsed::TooManyTokens(TooManyTokens { limit }) => error_codes::validation_failed(
                format!("the document has more than {limit} tokens; at most {limit} are allowed"),
            ),
        })
    })
}

/// Executes with the caller's identity in the request data; caches a fresh document it validated.
async fn run(
    http: &HttpState,
    Prepared { request, fresh }: Prepared,
    auth: RequestAuth,
    client: ClientIp,
) -> Answer {
    let request = request.data(auth).data(client);
    let mut response = http.schema.execute(request).await;
    let validated = passed_validation(&response);
    if let Some((query, parsed)) = fresh
        && validated
    {
        http.documents.remember(&query, parsed);
    }
    error_codes::fill_missing(&mut response);
    if validated {
        Answer::executed(response)
    } else {
        Answer::refused(response)
    }
}

/// Whether execution got past validation (and variable coercion): a document refused there has no
/// data and only errors located nowhere, while an error raised by a field names its path.
fn passed_validation(response: &async_graphql::Response) -> bool {
    response.data != async_graphql::Value::Null
        || response.errors.iter().any(|error| !error.path.is_empty())
}

/// Execution may have begun, so the answer keeps its `data` entry (null) and a 200: the request
/// itself was sound.
fn timed_out() -> Answer {
    let mut error = ServerError::new("the request took too long and was stopped", None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code::TIMEOUT);
    Answer::executed(async_graphql::Response::from_errors(vec![error]))
}

/// Every /graphql answer may carry a token (`login`, `serviceLogin`) or private rows: no browser
/// or proxy cache may keep one.
pub async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, http.body_limit)
            .await
            .map_err(|error| unreadable_body(&error.to_string()))?;
        // Reading is cheap; decoding a large body is not, so large ones take turns.
        let large = body.len() > SMALL_BODY_BYTES;
        let request = Request::from_parts(parts, Body::from(body.clone()));
        let _permit = if large {
            http.unvetted.acquire().await.ok()
        } else {
            None
        };
        let mut batch = GraphQLBatchRequest::<BadRequest>::from_request(request, http)
            .await
            .map_err(IntoResponse::into_response)?
            .into_inner();
        document_ids::attach_from_body(&body, &mut batch)
            .map_err(|message| bad_request(StatusCode::BAD_REQUEST, &message))?;
        Ok(Self(batch))
    }
}

/// Bodies up to this size are decoded at once; larger ones wait for [`HttpState::unvetted`].
const SMALL_BODY_BYTES: usize = 16 * 1024;

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
        match &self.0 {
            ParseRequestError::PayloadTooLarge => too_large_response(),
            ParseRequestError::Io(error) => unreadable_body(&error.to_string()),
            other => bad_request(StatusCode::BAD_REQUEST, &other.to_string()),
        }
    }
}

/// A body that could not be read in full, by the reason its error text gives (the body stream
/// has no typed errors): too large (413), too slow (408, and the connection closes), or broken.
fn unreadable_body(error: &str) -> Response {
    if error.contains("length limit exceeded") {
        return too_large_response();
    }
    if error.contains(BODY_TIMED_OUT) {
        // The rest of the body is never read, so the connection cannot carry another request.
        let mut response = bad_request(StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT);
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    bad_request(StatusCode::BAD_REQUEST, error)
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
