//! Gives every error that async-graphql raises itself an `extensions.code`, as ours carry.
//!
//! Done once per response rather than with an async-graphql extension: registering any
//! extension makes every field resolution go through boxed extension hooks.

use async_graphql::{Response, ServerError};

use crate::error::code;

/// A syntax error, coded before execution (the handler parses the document itself).
pub fn parse_failed(error: async_graphql::parser::Error) -> Response {
    let mut error = ServerError::from(error);
    set_code_if_missing(&mut error, code::GRAPHQL_PARSE_FAILED);
    Response::from_errors(vec![error])
}

/// A request-limit refusal found before execution.
pub fn validation_failed(message: String) -> Response {
    let mut error = ServerError::new(message, None);
    set_code_if_missing(&mut error, code::GRAPHQL_VALIDATION_FAILED);
    Response::from_errors(vec![error])
}

/// Codes the errors our resolvers did not raise: those without a path were found before execution
/// (validation, depth and complexity limits, variable types); those with one come from coercing a
/// field's arguments, which is the caller's input.
pub fn fill_missing(response: &mut Response) {
    for error in &mut response.errors {
        let fallback = if error.path.is_empty() {
            code::GRAPHQL_VALIDATION_FAILED
        } else {
            code::BAD_USER_INPUT
        };
        set_code_if_missing(error, fallback);
    }
}

fn set_code_if_missing(error: &mut ServerError, code: &'static str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}
