//! A cache of parsed documents keyed by query text.
//!
//! Clients send the same few query texts over and over (with different variables); parsing is a
//! large share of a small request's cost, and cloning a parsed document is much cheaper.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use async_graphql::parser::{
    self,
    types::{ExecutableDocument, Selection, SelectionSet},
};

/// Distinct query texts kept; beyond this the cache starts over, which bounds its memory.
const CAPACITY: usize = 256;
/// Longer texts are parsed every time rather than kept.
const MAX_CACHED_QUERY_BYTES: usize = 16 * 1024;

/// A parsed document and what the request limits need to know of it.
#[derive(Clone)]
pub struct Parsed {
    pub document: ExecutableDocument,
    /// Aliased fields in all operations and fragments: aliases let one request ask for the same
    /// expensive field many times over.
    pub aliases: usize,
    /// Whether it selects `__schema` or `__type`, which INTROSPECTION=false refuses.
    pub introspects: bool,
}

#[derive(Clone, Default)]
pub struct DocumentCache {
    documents: Arc<RwLock<HashMap<Box<str>, Parsed>>>,
}

impl DocumentCache {
    pub fn parse(&self, query: &str) -> Result<Parsed, parser::Error> {
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
        let aliases = count_aliases(&document);
        let introspects = selections(&document).any(introspects_in);
        let document = Parsed {
            document,
            aliases,
            introspects,
        };
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

/// The top-level selection sets of every operation and fragment.
fn selections(document: &ExecutableDocument) -> impl Iterator<Item = &SelectionSet> {
    let operations = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node);
    let fragments = document
        .fragments
        .values()
        .map(|fragment| &fragment.node.selection_set.node);
    operations.chain(fragments)
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    selections(document).map(aliases_in).sum()
}

fn introspects_in(set: &SelectionSet) -> bool {
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => {
            matches!(field.node.name.node.as_str(), "__schema" | "__type")
                || introspects_in(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => introspects_in(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
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
        assert_eq!(
            format!("{:?}", first.document),
            format!("{:?}", second.document)
        );
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let cache = DocumentCache::default();
        let query = "{ a: me { n: username } ...F } fragment F on Query { b: me { username } }";
        assert_eq!(cache.parse(query).expect("parses").aliases, 3);
    }

    #[test]
    fn introspection_is_noticed_in_fragments_too() {
        let cache = DocumentCache::default();
        assert!(
            cache
                .parse("{ ...F } fragment F on Query { __schema { types { name } } }")
                .expect("parses")
                .introspects
        );
        assert!(
            !cache
                .parse("{ me { __typename } }")
                .expect("parses")
                .introspects
        );
    }

    #[test]
    fn syntax_errors_are_not_cached() {
        let cache = DocumentCache::default();
        assert!(cache.parse("{ me {").is_err());
        assert!(cache.documents.read().expect("lock").is_empty());
    }
}
