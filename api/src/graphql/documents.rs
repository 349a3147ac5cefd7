//! Parsing documents within QUERY_MAX_TOKENS, and a cache of parsed documents keyed by query text.
//!
//! Clients send the same few query texts over and over (with different variables); parsing is a
//! large share of a small request's cost, and cloning a parsed document is much cheaper. Only
//! documents that an authenticated caller got past validation are kept, and the cache is bounded
//! by an estimate of the memory it holds (DOCUMENT_CACHE_BYTES): an anonymous client can make the
//! server keep nothing, and a hostile document never stays behind its request.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use async_graphql::parser::{self, types::ExecutableDocument};

use super::{
    analysis::{Shape, analyse},
    tokens::{self, TooManyTokens},
};

/// Longer texts are parsed every time rather than kept.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;
/// Memory a parsed document takes per token, generously: a field is a ~200-byte node plus its
/// name, and a 16 KiB document of one-letter fields was measured at about 2 MB parsed.
pub const BYTES_PER_TOKEN: usize = 256;

/// A parsed document and what the request limits need to know of it.
#[derive(Clone)]
pub struct Parsed {
    pub document: ExecutableDocument,
    pub shape: Shape,
    tokens: usize,
}

impl Parsed {
    /// What keeping it costs, estimated: the text as key, and its syntax tree.
    fn weight(&self, query: &str) -> usize {
        query.len() + self.tokens * BYTES_PER_TOKEN
    }
}

/// Why a document was not parsed.
#[derive(Debug)]
pub enum Unparsed {
    TooManyTokens(TooManyTokens),
    Syntax(parser::Error),
}

/// Counts the tokens first, so that an oversized document is refused before a tree is built.
pub fn parse(query: &str, max_tokens: usize) -> Result<Parsed, Unparsed> {
    let tokens = tokens::count(query, max_tokens).map_err(Unparsed::TooManyTokens)?;
    let document = parser::parse_query(query).map_err(Unparsed::Syntax)?;
    let shape = analyse(&document);
    Ok(Parsed {
        document,
        shape,
        tokens,
    })
}

#[derive(Clone)]
pub struct DocumentCache {
    cached: Arc<RwLock<Cached>>,
    max_bytes: usize,
}

#[derive(Default)]
struct Cached {
    documents: HashMap<Box<str>, Parsed>,
    bytes: usize,
}

impl DocumentCache {
    /// A cache holding at most `max_bytes` by [`Parsed`]'s estimate (0 keeps nothing).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            cached: Arc::default(),
            max_bytes,
        }
    }

    pub fn get(&self, query: &str) -> Option<Parsed> {
        // A poisoned lock only means a panic elsewhere mid-insert; the map itself is still sound.
        self.cached
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .documents
            .get(query)
            .cloned()
    }

    /// Keeps a document that passed validation. When it does not fit, the cache starts over:
    /// cheaper than tracking use, and the documents in steady use come straight back.
    pub fn remember(&self, query: &str, parsed: Parsed) {
        let weight = parsed.weight(query);
        if query.len() > MAX_CACHED_QUERY_BYTES || weight > self.max_bytes {
            return;
        }
        let mut cached = self.cached.write().unwrap_or_else(|e| e.into_inner());
        if cached.documents.contains_key(query) {
            return;
        }
        if cached.bytes + weight > self.max_bytes {
            cached.documents.clear();
            cached.bytes = 0;
        }
        cached.bytes += weight;
        cached.documents.insert(query.into(), parsed);
    }

    /// The estimated bytes held now.
    pub fn bytes(&self) -> usize {
        self.cached.read().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "query Q($id: ID!) { blacklistEntry(id: $id) { id ip } }";

    #[test]
    fn a_cached_document_equals_a_fresh_parse() {
        let cache = DocumentCache::new(1 << 20);
        let fresh = parse(QUERY, 100).expect("parses");
        cache.remember(QUERY, fresh.clone());
        let cached = cache.get(QUERY).expect("cached");
        assert_eq!(
            format!("{:?}", fresh.document),
            format!("{:?}", cached.document)
        );
    }

    #[test]
    fn documents_over_the_token_limit_are_not_parsed() {
        assert!(matches!(
            parse(&"{ a }".repeat(1000), 100),
            Err(Unparsed::TooManyTokens(TooManyTokens { limit: 100 }))
        ));
        assert!(matches!(parse("{ me {", 100), Err(Unparsed::Syntax(_))));
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let parsed = parse(QUERY, 100).expect("parses");
        let weight = parsed.weight(QUERY);
        let cache = DocumentCache::new(weight * 3);
        for n in 0..10 {
            let query = format!("{QUERY} # {n:02}");
            cache.remember(&query, parse(&query, 100).expect("parses"));
            assert!(cache.bytes() <= weight * 3, "{}", cache.bytes());
        }
        assert!(
            cache
                .get("query Q($id: ID!) { blacklistEntry(id: $id) { id ip } } # 09")
                .is_some()
        );
        let none = DocumentCache::new(0);
        none.remember(QUERY, parsed);
        assert!(none.get(QUERY).is_none());
    }
}
