//! The smallest valid request for a root field, built from the schema alone: every required
//! argument gets a placeholder of its type (an input object gets its required fields), and a
//! composite result asks only for `__typename`. Guards run before the resolver, so what the
//! placeholders mean does not matter; only that the document passes validation.

use std::collections::HashMap;

use api::graphql::access::walk::types_by_name;
use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, ServiceDocument, Type, TypeDefinition,
    TypeKind,
};

/// The document calling `field` of the root type `owner` (`Query`, `Mutation`, `Subscription`).
pub fn minimal_request(schema: &ServiceDocument, owner: &str, field: &FieldDefinition) -> String {
    let types = types_by_name(schema);
    let operation = match owner {
        "Query" => "query",
        "Mutation" => "mutation",
        "Subscription" => "subscription",
        other => panic!("{other} is not a root type"),
    };
    let arguments = required_values(&types, &field.arguments);
    let arguments = if arguments.is_empty() {
        String::new()
    } else {
        format!("({arguments})")
    };
    let selection = match types.get(named_type(&field.ty.node)).map(|ty| &ty.kind) {
        Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_)) => {
            " { __typename }"
        }
        _ => "",
    };
    format!(
        "{operation} {{ {}{arguments}{selection} }}",
        field.name.node
    )
}

/// `name: value, …` for the inputs a request cannot leave out (non-null, no default).
fn required_values(
    types: &HashMap<&str, &TypeDefinition>,
    inputs: &[async_graphql::Positioned<InputValueDefinition>],
) -> String {
    inputs
        .iter()
        .map(|input| &input.node)
        .filter(|input| !input.ty.node.nullable && input.default_value.is_none())
        .map(|input| {
            format!(
                "{}: {}",
                input.name.node,
                placeholder(types, &input.ty.node)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn placeholder(types: &HashMap<&str, &TypeDefinition>, ty: &Type) -> String {
    let BaseType::Named(name) = &ty.base else {
        return "[]".to_owned();
    };
    match name.as_str() {
        "Int" => return "1".to_owned(),
        "Float" => return "1.5".to_owned(),
        "Boolean" => return "false".to_owned(),
        // A valid UUID that no row has, so an ID also passes a resolver's parsing.
        "ID" => return "\"01970000-0000-7000-8000-000000000000\"".to_owned(),
        "DateTime" => return "\"2026-01-01T00:00:00Z\"".to_owned(),
        _ => {}
    }
    match types.get(name.as_str()).map(|ty| &ty.kind) {
        Some(TypeKind::Enum(values)) => values.values[0].node.value.node.to_string(),
        Some(TypeKind::InputObject(input)) => {
            format!("{{ {} }}", required_values(types, &input.fields))
        }
        _ => "\"placeholder\"".to_owned(),
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}
