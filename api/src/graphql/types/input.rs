//! Turning raw GraphQL input into checked values, for every resource: ids and free text.

use async_graphql::{ID, MaybeUndefined};
use uuid::Uuid;

use crate::error::ApiError;

pub fn parse_id(id: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::bad_input("id", format!("`{}` is not a valid id", id.as_str())))
}

/// Free text is stored verbatim; only what no column can hold faithfully is refused.
pub fn checked_text(
    field: &'static str,
    text: String,
    max_chars: usize,
) -> Result<String, ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::bad_input(
            field,
            "must not be empty; send null to leave it unset",
        ));
    }
    if text.chars().count() > max_chars {
        return Err(ApiError::bad_input(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if text.contains('\0') {
        return Err(ApiError::bad_input(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(text)
}

/// An optional text: checked as [`checked_text`] when given.
pub fn optional_text(
    field: &'static str,
    text: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    text.map(|text| checked_text(field, text, max_chars))
        .transpose()
}

pub fn clearable(
    field: &'static str,
    value: MaybeUndefined<String>,
    max_chars: usize,
) -> Result<Option<Option<String>>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(text) => Ok(Some(Some(checked_text(field, text, max_chars)?))),
    }
}
