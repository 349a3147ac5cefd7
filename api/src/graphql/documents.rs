//! A cache of parsed documents keyed by query text.
//!
//! Clients send the same few query texts over and over (with different variables); parsing is a
//! large share of a small request's cost, and cloning a parsed document is much cheaper.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use async_graphql::parser::{self, types::ExecutableDocument};

/// Distinct query texts kept; beyond this the cache starts over, which bounds its memory.
const CAPACITY: usize = 256;
/// Longer texts are parsed every time rather than kept.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;

#[derive(Clone, Default)]
pub struct DocumentCache {
    documents: Arc<RwLock<HashMap<Box<str>, ExecutableDocument>>>,
}

impl DocumentCache {
    pub fn parse(&self, query: &str) -> Result<ExecutableDocument, parser::Error> {
        // A poisoned lock only means a panic elsewhere mid-insert; the map itself is still sound.
        if let Some(document) = self
            .documents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(query)
        {
            return Ok(document.clone());
        }
        let document = parser::parse_query(query)?;
        if query.len() <= MAX_CACHED_QUERY_BYTES {
            let mut documents = self.documents.write().unwrap_or_else(|e| e.into_inner());
            if documents.len() >= CAPACITY {
                documents.clear();
            }
            documents.insert(query.into(), document.clone());
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_document_equals_a_fresh_parse() {
        let cache = DocumentCache::default();
        let query = "query Q($id: ID!) { blacklistEntry(id: $id) { id ip } }";
        let first = cache.parse(query).expect("parses");
        let second = cache.parse(query).expect("parses from the cache");
        assert_eq!(format!("{first:?}"), format!("{second:?}"));
    }

    #[test]
    fn syntax_errors_are_not_cached() {
        let cache = DocumentCache::default();
        assert!(cache.parse("{ me {").is_err());
        assert!(cache.documents.read().expect("lock").is_empty());
    }
}
