//! Gives every error that async-graphql raises itself an `extensions.code`, as ours carry.
//!
//! Done once per response rather than with an async-graphql extension: registering any
//! extension makes every field resolution go through boxed extension hooks.

use async_graphql::{Response, ServerError};

use crate::error::code;

/// Most errors one response lists.
const MAX_ERRORS: usize = 20;

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
    // A hostile document can produce tens of thousands of validation errors; the first few say enough.
    if response.errors.len() > MAX_ERRORS {
        let omitted = response.errors.len() - MAX_ERRORS;
        response.errors.truncate(MAX_ERRORS);
        let mut note = ServerError::new(format!("{omitted} more errors omitted"), None);
        set_code_if_missing(&mut note, code::GRAPHQL_VALIDATION_FAILED);
        response.errors.push(note);
    }
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
