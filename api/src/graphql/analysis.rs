//! What the request limits need to know of a parsed document, found in one walk when it is first
//! parsed (the cache keeps the answer): aliases, introspection, fields selected twice under one
//! response key, the database statements its root fields may run, and how deep it nests.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};

use super::cost;

/// Selections visited at most while expanding fragments; past this the document is refused, as
/// fragments spread inside fragments could otherwise make the walk exponential.
const MAX_STEPS: usize = 100_000;

/// How deep the introspection under `__schema` or `__type` may nest, whatever QUERY_MAX_DEPTH
/// says: the depth of graphql-js's standard introspection query (16.x, nine `ofType`s deep),
/// which GraphiQL, code generators and IDEs send. QUERY_MAX_DEPTH is sized for this schema's
/// own types; introspection is answered from memory, its size bounded by the schema's, so the
/// tools' fixed depth is allowed while deeper type chains (which only multiply the answer) are not.
pub const INTROSPECTION_MAX_DEPTH: usize = 15;

/// What the limits check, for every operation in a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// Aliased fields in all operations and fragments: aliases let one request ask for the same
    /// expensive field many times over.
    pub aliases: usize,
    /// Whether it selects `__schema` or `__type`, which INTROSPECTION=false refuses.
    pub introspects: bool,
    /// A response key selected twice in one selection set (fragments included) by a field with
    /// arguments or a selection of its own. async-graphql would run each occurrence and merge
    /// the answers, so repetition would multiply the work past the alias limit.
    pub repeated: Option<String>,
    /// Database statements the most expensive operation may run, counting each root field once
    /// per occurrence after fragments are expanded (directives ignored: an upper bound).
    pub statements: usize,
    /// The walk gave up after [`MAX_STEPS`] selections.
    pub too_large: bool,
    /// The deepest field outside introspection, fragments expanded; a root field is 1 deep.
    pub depth: usize,
    /// The deepest field of the introspection subtrees, `__schema` or `__type` being 1 deep.
    pub introspection_depth: usize,
}

pub fn analyse(document: &ExecutableDocument) -> Shape {
    let mut walk = Walk {
        document,
        steps: 0,
        repeated: None,
        statements: 0,
        spreads: Vec::new(),
        depth: 0,
        introspection_depth: 0,
    };
    let mut statements = 0;
    for (_, operation) in document.operations.iter() {
        walk.statements = 0;
        walk.set(
            &operation.node.selection_set.node,
            Level::ROOT,
            &mut HashSet::new(),
        );
        statements = statements.max(walk.statements);
    }
    Shape {
        aliases: selections(document).map(aliases_in).sum(),
        introspects: selections(document).any(introspects_in),
        repeated: walk.repeated,
        statements,
        too_large: walk.steps > MAX_STEPS,
        depth: walk.depth,
        introspection_depth: walk.introspection_depth,
    }
}

/// Where a selection set sits: how many fields above it, and whether under `__schema`/`__type`.
#[derive(Debug, Clone, Copy)]
struct Level {
    depth: usize,
    introspective: bool,
}

impl Level {
    const ROOT: Self = Self {
        depth: 0,
        introspective: false,
    };

    fn is_root(self) -> bool {
        self.depth == 0
    }

    /// The level of `field`'s own selection set.
    fn below(self, field: &Field) -> Self {
        Self {
            depth: self.depth + 1,
            introspective: self.introspective || is_introspection(field),
        }
    }
}

fn is_introspection(field: &Field) -> bool {
    matches!(field.name.node.as_str(), "__schema" | "__type")
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    steps: usize,
    repeated: Option<String>,
    statements: usize,
    /// Fragments being expanded, innermost last: a cycle is skipped (validation refuses it).
    spreads: Vec<&'a str>,
    depth: usize,
    introspection_depth: usize,
}

impl<'a> Walk<'a> {
    /// Walks one selection set; `keys` holds the response keys already selected in it, shared
    /// with the fragments spread into it, since their fields land in the same response object.
    fn set(&mut self, set: &'a SelectionSet, level: Level, keys: &mut HashSet<&'a str>) {
        for selection in &set.items {
            self.steps += 1;
            if self.steps > MAX_STEPS || self.repeated.is_some() {
                return;
            }
            match &selection.node {
                Selection::Field(field) => self.field(&field.node, level, keys),
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node, level, keys);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    if self.spreads.contains(&name) {
                        continue;
                    }
                    self.spreads.push(name);
                    self.set(&fragment.node.selection_set.node, level, keys);
                    self.spreads.pop();
                }
            }
        }
    }

    fn field(&mut self, field: &'a Field, level: Level, keys: &mut HashSet<&'a str>) {
        if level.is_root() {
            self.statements += cost::statements(field.name.node.as_str());
        }
        let inner = level.below(field);
        let deepest = if inner.introspective {
            &mut self.introspection_depth
        } else {
            &mut self.depth
        };
        *deepest = (*deepest).max(inner.depth);
        let key = field.response_key().node.as_str();
        let costly = !field.arguments.is_empty() || !field.selection_set.node.items.is_empty();
        // A repeated plain leaf (`id`, `totalCount`) only copies a loaded value; allowing it keeps
        // overlapping fragments, as clients write them, working.
        if costly && !keys.insert(key) {
            self.repeated = Some(key.to_owned());
            return;
        }
        self.set(&field.selection_set.node, inner, &mut HashSet::new());
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

fn introspects_in(set: &SelectionSet) -> bool {
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => {
            is_introspection(&field.node) || introspects_in(&field.node.selection_set.node)
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
    use async_graphql::parser::parse_query;

    use super::*;

    fn shape(query: &str) -> Shape {
        analyse(&parse_query(query).expect("parses"))
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let query = "{ a: me { n: username } ...F } fragment F on Query { b: me { username } }";
        assert_eq!(shape(query).aliases, 3);
    }

    #[test]
    fn introspection_is_noticed_in_fragments_too() {
        assert!(shape("{ ...F } fragment F on Query { __schema { types { name } } }").introspects);
        assert!(!shape("{ me { __typename } }").introspects);
    }

    #[test]
    fn a_costly_field_repeated_under_one_key_is_found_through_fragments() {
        let repeated = Some("blacklistEntries".to_owned());
        let twice = "{ blacklistEntries { totalCount } blacklistEntries { totalCount } }";
        assert_eq!(shape(twice).repeated, repeated);
        let spread_twice =
            "{ ...F ... { ...F } } fragment F on Query { blacklistEntries { totalCount } }";
        assert_eq!(shape(spread_twice).repeated, repeated);
        let nested = "{ me { a: username } m: me { username } me { kind } }";
        assert_eq!(shape(nested).repeated, Some("me".to_owned()));
    }

    #[test]
    fn repeated_leaves_and_distinct_keys_pass() {
        let query = "{ me { username ...P username } a: isBlocked(ip: \"1.2.3.4\") b: isBlocked(ip: \"1.2.3.5\") } \
                     fragment P on Principal { username kind }";
        assert_eq!(shape(query).repeated, None);
    }

    #[test]
    fn statements_count_root_fields_per_occurrence_through_fragments() {
        let query = "{ a: blacklistEntries { totalCount } ...F } fragment F on Query { \
                     b: blacklistEntry(id: \"x\") { id } c: blacklistEntry(id: \"y\") { id } me { username } }";
        assert_eq!(shape(query).statements, 2 + 1 + 1);
        let two_operations = "query A { blacklistEntry(id: \"x\") { id } } query B { blacklistEntries { totalCount } }";
        assert_eq!(shape(two_operations).statements, 2);
    }

    #[test]
    fn depth_is_counted_through_fragments_and_apart_from_introspection() {
        let query = "{ blacklistEntries { ...E } __schema { types { ...T } } } \
                     fragment E on BlacklistEntryConnection { edges { node { id } } } \
                     fragment T on __Type { fields { type { ofType { name } } } }";
        let both = shape(query);
        assert_eq!((both.depth, both.introspection_depth), (4, 6));
        let typename_only = shape("{ __typename }");
        assert_eq!(
            (typename_only.depth, typename_only.introspection_depth),
            (1, 0)
        );
    }

    #[test]
    fn fragment_cycles_end_the_walk() {
        let query =
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A me { username } }";
        assert_eq!(shape(query).repeated, None);
    }

    #[test]
    fn exponential_fragment_expansion_is_cut_short() {
        let mut query = String::from("{ ...F0 }");
        for n in 0..30 {
            query.push_str(&format!(
                " fragment F{n} on Query {{ a: me {{ ...F{next} }} b: me {{ ...F{next} }} }}",
                next = n + 1
            ));
        }
        query.push_str(" fragment F30 on Principal { username }");
        assert!(shape(&query).too_large);
    }
}
