//! The walk over a schema's SDL that finds every field the deny-by-default rule covers, and the
//! access marker each one carries.
//!
//! Covered are the root fields (Query, Mutation, Subscription) and, for every interface reachable
//! from them, every field of every implementor: async-graphql runs the implementor's resolver and
//! guard, never one declared on the interface (async-graphql issue #1826), so a marker on the
//! interface field alone would promise a check nobody makes.

use std::collections::{BTreeSet, HashMap, VecDeque};

use async_graphql::{
    Positioned,
    parser::{
        self,
        types::{
            BaseType, ConstDirective, FieldDefinition, ServiceDocument, Type, TypeDefinition,
            TypeKind, TypeSystemDefinition,
        },
    },
};

/// Who may call a field, as its marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `@public`: answers without a token.
    Public,
    /// `@authenticated`: any live token.
    Authenticated,
    /// `@requires(permission: …)`: a live token granting this permission.
    Requires(String),
}

/// A field the rule covers; `access` is `None` when it has no marker, or more than one.
#[derive(Debug, Clone)]
pub struct CoveredField {
    /// The object type the field belongs to (`Query`, `Mutation`, an interface's implementor …).
    pub owner: String,
    pub definition: FieldDefinition,
    pub access: Option<Access>,
}

impl CoveredField {
    /// `Owner.field`, as a failing test names it.
    pub fn path(&self) -> String {
        format!("{}.{}", self.owner, self.definition.name.node)
    }
}

/// Every field the rule covers in `sdl`, roots first, in schema order.
pub fn covered_fields(sdl: &str) -> parser::Result<Vec<CoveredField>> {
    let document = parser::parse_schema(sdl)?;
    let types = types_by_name(&document);
    let roots = root_type_names(&document);
    let mut owners: Vec<&str> = roots.clone();
    for interface in reachable_interfaces(&types, &roots) {
        for implementor in implementors(&types, interface) {
            if !owners.contains(&implementor) {
                owners.push(implementor);
            }
        }
    }
    Ok(owners
        .into_iter()
        .filter_map(|owner| types.get(owner))
        .flat_map(|definition| {
            fields(definition).iter().map(|field| CoveredField {
                owner: definition.name.node.to_string(),
                definition: field.node.clone(),
                access: access_of(&field.node.directives),
            })
        })
        .collect())
}

/// `Owner.field` of every covered field without exactly one access marker.
pub fn unmarked_fields(sdl: &str) -> parser::Result<Vec<String>> {
    Ok(covered_fields(sdl)?
        .into_iter()
        .filter(|field| field.access.is_none())
        .map(|field| field.path())
        .collect())
}

/// The one access marker among `directives`; none or several is no answer, so it counts as unmarked.
pub fn access_of(directives: &[Positioned<ConstDirective>]) -> Option<Access> {
    let mut markers = directives.iter().filter_map(|directive| {
        let directive = &directive.node;
        match directive.name.node.as_str() {
            "public" => Some(Some(Access::Public)),
            "authenticated" => Some(Some(Access::Authenticated)),
            "requires" => {
                Some(
                    directive
                        .get_argument("permission")
                        .and_then(|value| match &value.node {
                            async_graphql::Value::String(permission) => {
                                Some(Access::Requires(permission.clone()))
                            }
                            _ => None,
                        }),
                )
            }
            _ => None,
        }
    });
    match (markers.next(), markers.next()) {
        (Some(only), None) => only,
        _ => None,
    }
}

/// Every type the document defines, by name.
pub fn types_by_name(document: &ServiceDocument) -> HashMap<&str, &TypeDefinition> {
    document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            TypeSystemDefinition::Type(ty) => Some((ty.node.name.node.as_str(), &ty.node)),
            _ => None,
        })
        .collect()
}

/// The root operation types, by the `schema { … }` block or, without one, by their default names.
fn root_type_names(document: &ServiceDocument) -> Vec<&str> {
    let declared = document
        .definitions
        .iter()
        .find_map(|definition| match definition {
            TypeSystemDefinition::Schema(schema) => Some(&schema.node),
            _ => None,
        });
    match declared {
        Some(schema) => [&schema.query, &schema.mutation, &schema.subscription]
            .into_iter()
            .flatten()
            .map(|name| name.node.as_str())
            .collect(),
        None => vec!["Query", "Mutation", "Subscription"],
    }
}

/// Interfaces a response can pass through, following field types (and union members, and an
/// interface's implementors) out from the roots.
fn reachable_interfaces<'a>(
    types: &HashMap<&'a str, &'a TypeDefinition>,
    roots: &[&'a str],
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = roots.iter().copied().collect();
    let mut queue: VecDeque<&str> = roots.iter().copied().collect();
    let mut interfaces = BTreeSet::new();
    while let Some(name) = queue.pop_front() {
        let Some(definition) = types.get(name) else {
            continue;
        };
        let mut next: Vec<&str> = fields(definition)
            .iter()
            .map(|field| named_type(&field.node.ty.node))
            .collect();
        match &definition.kind {
            TypeKind::Interface(_) => {
                interfaces.insert(name);
                next.extend(implementors(types, name));
            }
            TypeKind::Union(union) => {
                next.extend(union.members.iter().map(|member| member.node.as_str()));
            }
            _ => {}
        }
        for ty in next {
            if seen.insert(ty) {
                queue.push_back(ty);
            }
        }
    }
    interfaces
}

/// Object and interface types that declare `implements interface`.
fn implementors<'a>(types: &HashMap<&'a str, &'a TypeDefinition>, interface: &str) -> Vec<&'a str> {
    let mut found: Vec<&str> = types
        .iter()
        .filter(|(_, definition)| {
            let implements = match &definition.kind {
                TypeKind::Object(object) => &object.implements,
                TypeKind::Interface(parent) => &parent.implements,
                _ => return false,
            };
            implements.iter().any(|name| name.node == interface)
        })
        .map(|(name, _)| *name)
        .collect();
    // HashMap order would make the failure list, and so the test output, change from run to run.
    found.sort_unstable();
    found
}

fn fields(definition: &TypeDefinition) -> &[Positioned<FieldDefinition>] {
    match &definition.kind {
        TypeKind::Object(object) => &object.fields,
        TypeKind::Interface(interface) => &interface.fields,
        _ => &[],
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKERS: &str = r#"
        directive @public on FIELD_DEFINITION
        directive @authenticated on FIELD_DEFINITION
        directive @requires(permission: String!) on FIELD_DEFINITION
    "#;

    fn unmarked(types: &str) -> Vec<String> {
        unmarked_fields(&format!("{MARKERS}{types}")).expect("the test SDL parses")
    }

    #[test]
    fn every_root_field_needs_a_marker() {
        let found = unmarked(
            r#"
            type Query { open: Int @public  me: Int @authenticated  secret: Int }
            type Mutation { change: Int @requires(permission: "a:b")  forgotten: Int }
            type Subscription { follow: Int }
            "#,
        );
        assert_eq!(
            found,
            ["Query.secret", "Mutation.forgotten", "Subscription.follow"]
        );
    }

    #[test]
    fn two_markers_on_one_field_count_as_none() {
        let found = unmarked(r#"type Query { both: Int @public @requires(permission: "a:b") }"#);
        assert_eq!(found, ["Query.both"]);
    }

    #[test]
    fn a_requires_without_its_permission_counts_as_none() {
        let found = unmarked("type Query { vague: Int @requires }");
        assert_eq!(found, ["Query.vague"]);
    }

    #[test]
    fn an_interface_field_is_checked_on_every_implementor() {
        // The marker on `Node.owner` is not enough: `Account.owner` is what runs.
        let found = unmarked(
            r#"
            interface Node { id: ID! @public  owner: String @authenticated }
            type Account implements Node { id: ID! @public  owner: String }
            type Team implements Node { id: ID! @public  owner: String @authenticated }
            type Query { node(id: ID!): Node @authenticated }
            "#,
        );
        assert_eq!(found, ["Account.owner"]);
    }

    #[test]
    fn an_interface_behind_a_list_and_an_object_is_still_reached() {
        let found = unmarked(
            r#"
            interface Named { name: String }
            type Person implements Named { name: String }
            type Page { items: [Named!]! }
            type Query { page: Page @authenticated }
            "#,
        );
        assert_eq!(found, ["Person.name"]);
    }

    #[test]
    fn an_interface_no_root_reaches_is_not_covered() {
        let found = unmarked(
            r#"
            interface Orphan { name: String }
            type Stray implements Orphan { name: String }
            type Query { ping: Int @public }
            "#,
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn the_schema_block_names_the_roots() {
        let found = unmarked(
            r#"
            type Root { open: Int }
            type Query { ignored: Int }
            schema { query: Root }
            "#,
        );
        assert_eq!(found, ["Root.open"]);
    }

    #[test]
    fn every_field_this_server_serves_is_marked() {
        let unmarked = unmarked_fields(&crate::graphql::schema::sdl()).expect("our SDL parses");
        assert!(
            unmarked.is_empty(),
            "fields with neither a guard marker nor @public: {unmarked:?}"
        );
    }
}
