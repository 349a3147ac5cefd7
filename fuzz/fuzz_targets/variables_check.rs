//! The variables check that runs before execution: for any document and any JSON variables it
//! answers without panicking, the same way twice, and never accepts a missing required variable.
#![no_main]

use arbitrary::Arbitrary;
use async_graphql::{Variables, parser::parse_query};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    query: &'a str,
    variables: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    if input.query.len() > 4096 {
        return;
    }
    let Ok(document) = parse_query(input.query) else {
        return;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(input.variables) else {
        return;
    };
    let variables = Variables::from_json(json);
    let Some(operation) = api::graphql::variables::selected_operation(&document, None) else {
        return;
    };
    let first = api::graphql::variables::check(operation, &variables);
    assert_eq!(first, api::graphql::variables::check(operation, &variables));
    if first.is_ok() {
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            let required = !definition.var_type.node.nullable && definition.default_value.is_none();
            if required {
                assert!(
                    variables.get(&definition.name.node).is_some(),
                    "a missing required ${} was accepted",
                    definition.name.node
                );
            }
        }
    }
});
