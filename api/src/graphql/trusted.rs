//! Trusted documents: a manifest of documents by their sha256 (TRUSTED_DOCUMENTS), served by
//! `documentId` and Apollo's APQ hash, and in `enforced` mode the only documents that run.
//!
//! The manifest is what GraphQL Code Generator's client preset emits as persisted-documents.json:
//! a JSON object from hash to document text. A production API that only its own clients call can
//! refuse every other document before parsing it.

use std::{
    any::TypeId,
    collections::{HashMap, VecDeque},
    path::Path,
    sync::{Arc, Mutex},
};

use anyhow::Context as _;
use async_graphql::{Request, Response, ServerError, Value};
use sha2::{Digest, Sha256};

use crate::{
    config::{Config, TrustedDocumentsMode},
    error::code,
};

/// `extensions.code` of a `documentId` or APQ hash the server does not know (Apollo clients
/// then send the document with its hash, to register it).
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// `extensions.code` of a persisted-document request to a server without TRUSTED_DOCUMENTS
/// (Apollo clients then stop sending hashes).
pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
/// `extensions.code` of a document refused in `enforced` mode because it is not in the manifest.
pub const DOCUMENT_NOT_TRUSTED: &str = "DOCUMENT_NOT_TRUSTED";

/// Memory the APQ registrations of `allow` mode may hold, in bytes of document text; the oldest
/// make way for new ones.
const REGISTERED_MAX_BYTES: usize = 1024 * 1024;
/// Longer documents are run but not registered.
const REGISTERED_MAX_DOCUMENT_BYTES: usize = 16 * 1024;

/// The `documentId` a request named (POST body or GET URL), carried in the request's data until
/// [`TrustedDocuments::resolve`] replaces it with its document.
#[derive(Debug, Clone)]
pub struct DocumentId(pub String);

/// The manifest and the mode; with no manifest, persisted-document requests are refused.
pub struct TrustedDocuments {
    mode: Option<TrustedDocumentsMode>,
    manifest: HashMap<String, Arc<str>>,
    registered: Mutex<Registered>,
}

impl TrustedDocuments {
    /// Loads TRUSTED_DOCUMENTS, if set; a manifest that cannot be read, or any entry whose
    /// document does not parse or is not its key's sha256, stops the start naming the entry.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let Some(path) = &config.trusted_documents else {
            return Ok(Self::off());
        };
        let trusted = Self::load(path, config.trusted_documents_mode)
            .with_context(|| format!("TRUSTED_DOCUMENTS={}", path.display()))?;
        tracing::info!(
            documents = trusted.manifest.len(),
            mode = ?config.trusted_documents_mode,
            "trusted documents loaded"
        );
        Ok(trusted)
    }

    /// No manifest: every document runs, and `documentId` or APQ requests are not supported.
    pub fn off() -> Self {
        Self {
            mode: None,
            manifest: HashMap::new(),
            registered: Mutex::new(Registered::default()),
        }
    }

    fn load(path: &Path, mode: TrustedDocumentsMode) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).context("cannot read the manifest")?;
        Self::from_manifest(&text, mode)
    }

    fn from_manifest(text: &str, mode: TrustedDocumentsMode) -> anyhow::Result<Self> {
        let entries: HashMap<String, String> = serde_json::from_str(text)
            .context("the manifest is not a JSON object of hash to document text")?;
        let mut manifest = HashMap::with_capacity(entries.len());
        for (key, document) in entries {
            let hash = bare_hash(&key)
                .with_context(|| format!("manifest entry `{key}`: the key is not a sha256 hash"))?;
            anyhow::ensure!(
                sha256_hex(&document) == hash,
                "manifest entry `{key}`: the key is not the sha256 of its document"
            );
            async_graphql::parser::parse_query(&document).map_err(|error| {
                anyhow::anyhow!("manifest entry `{key}`: the document does not parse: {error}")
            })?;
            manifest.insert(hash, Arc::from(document));
        }
        Ok(Self {
            mode: Some(mode),
            manifest,
            registered: Mutex::new(Registered::default()),
        })
    }

    /// Puts the document a request names by `documentId` or APQ hash in its `query`, and in
    /// `enforced` mode refuses any document not in the manifest, before anything parses it.
    /// The document then goes through every limit like any other.
    pub fn resolve(&self, request: &mut Request) -> Result<(), Box<Response>> {
        let document_id = request
            .data
            .get(&TypeId::of::<DocumentId>())
            .and_then(|data| data.downcast_ref::<DocumentId>())
            .map(|DocumentId(id)| id.clone());
        let apq_hash = apq_hash(request)?;
        let Some(mode) = self.mode else {
            if document_id.is_some() || apq_hash.is_some() {
                return Err(refusal(
                    "persisted documents are not supported by this server",
                    PERSISTED_QUERY_NOT_SUPPORTED,
                ));
            }
            return Ok(());
        };
        let enforced = mode == TrustedDocumentsMode::Enforced;
        if let Some(id) = document_id {
            if !request.query.is_empty() {
                return Err(refusal(
                    "send either `documentId` or `query`, not both",
                    code::BAD_REQUEST,
                ));
            }
            request.query = self.find(&id, enforced)?.to_string();
            return Ok(());
        }
        if let Some(hash) = apq_hash {
            if request.query.is_empty() {
                request.query = self.find(&hash, enforced)?.to_string();
                return Ok(());
            }
            let hash = hash.to_ascii_lowercase();
            if sha256_hex(&request.query) != hash {
                return Err(refusal(
                    "`persistedQuery.sha256Hash` is not the sha256 of the query",
                    code::BAD_REQUEST,
                ));
            }
            if !self.manifest.contains_key(&hash) {
                if enforced {
                    return Err(not_trusted());
                }
                self.lock_registered().register(hash, &request.query);
            }
            return Ok(());
        }
        if enforced && !self.manifest.contains_key(&sha256_hex(&request.query)) {
            return Err(not_trusted());
        }
        Ok(())
    }

    /// The document of a `documentId` (`sha256:<hex>`, or the bare hash) or APQ hash.
    fn find(&self, id: &str, enforced: bool) -> Result<Arc<str>, Box<Response>> {
        let not_found = || {
            refusal(
                "no persisted document has this id",
                PERSISTED_QUERY_NOT_FOUND,
            )
        };
        let hash = bare_hash(id).ok_or_else(not_found)?;
        if let Some(document) = self.manifest.get(&hash) {
            return Ok(document.clone());
        }
        if enforced {
            return Err(not_found());
        }
        self.lock_registered().get(&hash).ok_or_else(not_found)
    }

    fn lock_registered(&self) -> std::sync::MutexGuard<'_, Registered> {
        // The cache is left consistent at every step, so a panic elsewhere cannot spoil it.
        crate::lock::ignoring_poison(&self.registered)
    }
}

/// Documents registered through APQ in `allow` mode, oldest first out.
#[derive(Default)]
struct Registered {
    documents: HashMap<String, Arc<str>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Registered {
    fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.documents.get(hash).cloned()
    }

    fn register(&mut self, hash: String, document: &str) {
        if document.len() > REGISTERED_MAX_DOCUMENT_BYTES || self.documents.contains_key(&hash) {
            return;
        }
        while self.bytes + document.len() > REGISTERED_MAX_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.documents.remove(&oldest) {
                self.bytes -= evicted.len();
            }
        }
        self.bytes += document.len();
        self.order.push_back(hash.clone());
        self.documents.insert(hash, Arc::from(document));
    }
}

/// `extensions.persistedQuery.sha256Hash` of an APQ request (version 1), if it is one.
fn apq_hash(request: &Request) -> Result<Option<String>, Box<Response>> {
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let malformed = || {
        refusal(
            "`extensions.persistedQuery` must be `{ \"version\": 1, \"sha256Hash\": \"<hex>\" }`",
            code::BAD_REQUEST,
        )
    };
    let Value::Object(fields) = persisted else {
        return Err(malformed());
    };
    let version_one =
        matches!(fields.get("version"), Some(Value::Number(n)) if n.as_u64() == Some(1));
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) if version_one => Ok(Some(hash.clone())),
        _ => Err(malformed()),
    }
}

/// The lowercase hex of `sha256:<hex>` or of a bare hash; `None` when it is not one.
fn bare_hash(id: &str) -> Option<String> {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

fn sha256_hex(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

fn not_trusted() -> Box<Response> {
    refusal(
        "this server runs only its trusted documents, and this is not one of them",
        DOCUMENT_NOT_TRUSTED,
    )
}

fn refusal(message: &str, code: &'static str) -> Box<Response> {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    Box::new(Response::from_errors(vec![error]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = "query Me { me { username } }";

    fn manifest(key: &str, document: &str) -> String {
        serde_json::json!({ key: document }).to_string()
    }

    #[test]
    fn a_manifest_keyed_by_bare_or_prefixed_hashes_loads() {
        let hash = sha256_hex(DOCUMENT);
        for key in [hash.clone(), format!("sha256:{hash}"), hash.to_uppercase()] {
            let trusted = TrustedDocuments::from_manifest(
                &manifest(&key, DOCUMENT),
                TrustedDocumentsMode::Enforced,
            )
            .expect("the manifest loads");
            assert!(trusted.manifest.contains_key(&hash));
        }
    }

    #[test]
    fn an_entry_whose_key_is_not_its_hash_is_named() {
        let key = sha256_hex("query Other { me { username } }");
        let error =
            TrustedDocuments::from_manifest(&manifest(&key, DOCUMENT), TrustedDocumentsMode::Allow)
                .err()
                .expect("the manifest is refused")
                .to_string();
        assert!(
            error.contains(&key) && error.contains("not the sha256"),
            "{error}"
        );
    }

    #[test]
    fn an_entry_that_does_not_parse_is_named() {
        let document = "query {";
        let key = sha256_hex(document);
        let error =
            TrustedDocuments::from_manifest(&manifest(&key, document), TrustedDocumentsMode::Allow)
                .err()
                .expect("the manifest is refused")
                .to_string();
        assert!(
            error.contains(&key) && error.contains("does not parse"),
            "{error}"
        );
    }

    #[test]
    fn registrations_stay_within_their_bytes() {
        let mut registered = Registered::default();
        let document = "x".repeat(REGISTERED_MAX_DOCUMENT_BYTES);
        for n in 0..(2 * REGISTERED_MAX_BYTES / document.len()) {
            registered.register(format!("{n:064}"), &document);
        }
        assert!(registered.bytes <= REGISTERED_MAX_BYTES);
        assert_eq!(
            registered.bytes,
            registered.documents.len() * document.len()
        );
        assert!(
            registered.get(&format!("{:064}", 0)).is_none(),
            "the oldest went first"
        );
    }
}
