//! `documentId`, the GraphQL-over-HTTP name of a persisted document, read where async-graphql's
//! request decoding drops it: beside a POST body (one operation or a batch) and from a GET URL.

use async_graphql::{BatchRequest, Request};
use axum::{extract::Query, http::Uri};
use serde::Deserialize;

use crate::graphql::trusted::DocumentId;

#[derive(Deserialize)]
struct Named {
    #[serde(rename = "documentId")]
    document_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    Single(Named),
    Batch(Vec<Named>),
}

/// Gives each operation of `batch` the `documentId` its part of `body` names. Most bodies name
/// none, and are not decoded twice.
pub fn attach_from_body(body: &[u8], batch: &mut BatchRequest) -> Result<(), String> {
    if !body
        .windows(b"documentId".len())
        .any(|w| w == b"documentId")
    {
        return Ok(());
    }
    let named = serde_json::from_slice::<Body>(body)
        .map_err(|_| "`documentId` must be a string".to_owned())?;
    match (batch, named) {
        (BatchRequest::Single(request), Body::Single(named)) => attach(request, named),
        (BatchRequest::Batch(requests), Body::Batch(named)) => {
            for (request, named) in requests.iter_mut().zip(named) {
                attach(request, named);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Gives a GET request the `documentId` of its URL.
pub fn attach_from_uri(uri: &Uri, request: &mut Request) -> Result<(), String> {
    let Query(named) = Query::<Named>::try_from_uri(uri)
        .map_err(|_| "`documentId` must be a string".to_owned())?;
    attach(request, named);
    Ok(())
}

fn attach(request: &mut Request, named: Named) {
    if let Some(id) = named.document_id {
        request.data.insert(DocumentId(id));
    }
}
