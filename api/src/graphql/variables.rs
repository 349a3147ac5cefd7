//! Checks every variable against its declared type before anything executes.
//!
//! async-graphql coerces some variables only when the field using them runs, so in a mutation
//! with several fields the first could write before the second's bad variable is noticed. The
//! spec makes a bad variable a request error: nothing runs. Coercion uses each type's own
//! `InputType::parse`, so the check is exactly the one execution would make.

use async_graphql::{
    ID, InputType, Value, Variables,
    parser::types::{BaseType, ExecutableDocument, OperationDefinition, Type},
};
use chrono::{DateTime, Utc};

use super::types::{
    audit::AuditFilter,
    blacklist::{BlacklistFilter, CreateBlacklistEntryInput, UpdateBlacklistEntryInput},
    role::{CreateRoleInput, UpdateRoleInput},
    service_account::CreateServiceAccountInput,
    user::{CreateUserInput, UpdateUserInput, UserFilter},
};

/// The operation that will run: the named one, or the only one.
pub fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let mut operations = document.operations.iter();
    match name {
        Some(name) => operations
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| &op.node),
        None => match (operations.next(), operations.next()) {
            (Some((_, only)), None) => Some(&only.node),
            _ => None,
        },
    }
}

/// Returns a message naming the first variable whose value does not fit its declared type.
pub fn check(operation: &OperationDefinition, variables: &Variables) -> Result<(), String> {
    for definition in &operation.variable_definitions {
        let name = &definition.node.name.node;
        let value = variables
            .get(name)
            .or_else(|| definition.node.default_value());
        let ty = &definition.node.var_type.node;
        check_value(ty, value)
            .map_err(|reason| format!("variable ${name} of type {ty}: {reason}"))?;
    }
    Ok(())
}

fn check_value(ty: &Type, value: Option<&Value>) -> Result<(), String> {
    let value = match value {
        None | Some(Value::Null) if ty.nullable => return Ok(()),
        None => return Err("was not provided".to_owned()),
        Some(Value::Null) => return Err("must not be null".to_owned()),
        Some(value) => value,
    };
    match &ty.base {
        BaseType::List(item) => match value {
            Value::List(items) => items.iter().try_for_each(|v| check_value(item, Some(v))),
            // Input coercion turns a single value into a list of one.
            single => check_value(item, Some(single)),
        },
        BaseType::Named(name) => parse_named(name.as_str(), value),
    }
}

/// Parses with the input type of that name; names not listed are left to validation, which
/// refuses types the schema does not have.
fn parse_named(name: &str, value: &Value) -> Result<(), String> {
    fn parse<T: InputType>(value: &Value) -> Result<(), String> {
        T::parse(Some(value.clone()))
            .map(|_| ())
            .map_err(|error| error.into_server_error(Default::default()).message)
    }
    match name {
        "String" => parse::<String>(value),
        "Int" => parse::<i32>(value),
        "Float" => parse::<f64>(value),
        "Boolean" => parse::<bool>(value),
        "ID" => parse::<ID>(value),
        "DateTime" => parse::<DateTime<Utc>>(value),
        "CreateBlacklistEntryInput" => parse::<CreateBlacklistEntryInput>(value),
        "UpdateBlacklistEntryInput" => parse::<UpdateBlacklistEntryInput>(value),
        "BlacklistFilter" => parse::<BlacklistFilter>(value),
        "CreateUserInput" => parse::<CreateUserInput>(value),
        "UpdateUserInput" => parse::<UpdateUserInput>(value),
        "UserFilter" => parse::<UserFilter>(value),
        "CreateRoleInput" => parse::<CreateRoleInput>(value),
        "UpdateRoleInput" => parse::<UpdateRoleInput>(value),
        "CreateServiceAccountInput" => parse::<CreateServiceAccountInput>(value),
        "AuditFilter" => parse::<AuditFilter>(value),
        _ => Ok(()),
    }
}

/// The input types `parse_named` knows, so a test can prove every input type of the schema is there.
pub const KNOWN_INPUT_TYPES: &[&str] = &[
    "CreateBlacklistEntryInput",
    "UpdateBlacklistEntryInput",
    "BlacklistFilter",
    "CreateUserInput",
    "UpdateUserInput",
    "UserFilter",
    "CreateRoleInput",
    "UpdateRoleInput",
    "CreateServiceAccountInput",
    "AuditFilter",
];

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn check_query(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let document = parse_query(query).expect("parses");
        let operation = selected_operation(&document, None).expect("one operation");
        check(operation, &Variables::from_json(variables))
    }

    const CREATE: &str =
        "mutation($i: CreateBlacklistEntryInput!) { createBlacklistEntry(input: $i) { id } }";

    #[test]
    fn well_typed_variables_pass() {
        assert!(check_query(CREATE, serde_json::json!({ "i": { "ip": "10.0.0.1" } })).is_ok());
        assert!(
            check_query(
                "query($n: Int) { blacklistEntries(first: $n) { totalCount } }",
                serde_json::json!({})
            )
            .is_ok()
        );
    }

    #[test]
    fn ill_typed_or_missing_variables_are_refused() {
        assert!(check_query(CREATE, serde_json::json!({ "i": "ip: 10.0.0.1" })).is_err());
        assert!(check_query(CREATE, serde_json::json!({ "i": { "ip": 5 } })).is_err());
        assert!(check_query(CREATE, serde_json::json!({})).is_err());
        assert!(
            check_query(
                "query($n: Int) { me { username } }",
                serde_json::json!({ "n": 4_294_967_296_u64 })
            )
            .is_err()
        );
    }

    #[test]
    fn every_input_type_of_the_schema_is_checked() {
        let sdl = crate::graphql::schema::sdl();
        let inputs: Vec<&str> = sdl
            .lines()
            .filter_map(|line| line.strip_prefix("input ")?.split_whitespace().next())
            .collect();
        assert!(!inputs.is_empty());
        for input in inputs {
            assert!(
                KNOWN_INPUT_TYPES.contains(&input),
                "add {input} to graphql::variables::parse_named"
            );
        }
    }
}
