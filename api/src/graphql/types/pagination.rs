//! Relay cursor arguments: checking `first`/`last`, and opaque cursors over (createdAt, id).

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, CursorType, Edge},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::Instant;
use uuid::Uuid;

use crate::{
    db::keyset::{CreationOrdered, Page, Position, Window},
    error::ApiError,
};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Complexity of a connection field: the page's rows and the count beside it, plus the fields
/// selected. Grows with the page, yet a full page with every field stays well under the default limit.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |n| u64::try_from(n).unwrap_or(0))
        .min(MAX_PAGE_SIZE);
    // One statement for the page, one for `totalCount`.
    2 + usize::try_from(rows).unwrap_or(usize::MAX) + child_complexity
}

/// Extra fields on every connection.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// How many entries match the filter, on all pages together.
    pub total_count: u64,
}

/// A connection over rows of a keyset page (see `db::keyset`), edges in the page's order.
pub type PageConnection<N> = Connection<Cursor, N, ConnectionFields>;

/// The connection of one page: each row becomes the node `node(row)`, its cursor its position.
pub fn connection<E, N>(page: Page<E::Model>, node: impl Fn(E::Model) -> N) -> PageConnection<N>
where
    E: CreationOrdered,
    N: OutputType,
{
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionFields {
            total_count: page.total_count,
        },
    );
    connection.edges.extend(
        page.rows
            .into_iter()
            .map(|row| Edge::new(Cursor(E::position(&row)), node(row))),
    );
    connection
}

/// An opaque cursor: a position in the (createdAt, id) order.
pub struct Cursor(pub Position);

impl CursorType for Cursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || "is not a cursor returned by this API".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (micros, id) = text.split_once(':').ok_or_else(bad)?;
        // An instant no column can hold cannot come from a row, so the API did not issue it.
        let created_at = micros
            .parse()
            .ok()
            .and_then(Instant::from_micros)
            .ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Self(Position { created_at, id }))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}",
            self.0.created_at.micros(),
            self.0.id.simple()
        ))
    }
}

/// The raw Relay arguments of a connection field.
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// Checks the arguments and picks the window. Sizes over the cap are refused, never clipped.
    pub fn window(self) -> Result<Window, ApiError> {
        if self.first.is_some() && self.last.is_some() {
            return Err(ApiError::bad_input(
                "last",
                "`first` and `last` cannot be combined",
            ));
        }
        if self.after.is_some() && self.before.is_some() {
            return Err(ApiError::bad_input(
                "before",
                "`after` and `before` cannot be combined",
            ));
        }
        let backward = self.last.is_some() || self.before.is_some();
        if backward && self.after.is_some() {
            return Err(ApiError::bad_input(
                "after",
                "`after` goes with `first`; use `before` with `last`",
            ));
        }
        if !backward && self.before.is_some() {
            return Err(ApiError::bad_input(
                "before",
                "`before` goes with `last`; use `after` with `first`",
            ));
        }
        if backward {
            Ok(Window::Backward {
                before: self
                    .before
                    .as_deref()
                    .map(|c| position("before", c))
                    .transpose()?,
                limit: page_size("last", self.last)?,
            })
        } else {
            Ok(Window::Forward {
                after: self
                    .after
                    .as_deref()
                    .map(|c| position("after", c))
                    .transpose()?,
                limit: page_size("first", self.first)?,
            })
        }
    }
}

fn page_size(field: &'static str, requested: Option<i32>) -> Result<u64, ApiError> {
    match requested {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n < 0 => Err(ApiError::bad_input(field, "must not be negative")),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(ApiError::bad_input(
            field,
            format!("must be at most {MAX_PAGE_SIZE}"),
        )),
        Some(n) => Ok(n as u64),
    }
}

fn position(field: &'static str, cursor: &str) -> Result<Position, ApiError> {
    Cursor::decode_cursor(cursor)
        .map(|c| c.0)
        .map_err(|reason| ApiError::bad_input(field, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let position = Position {
            created_at: crate::db::now(),
            id: Uuid::now_v7(),
        };
        let decoded = Cursor::decode_cursor(&Cursor(position).encode_cursor()).expect("decodes");
        assert_eq!(decoded.0, position);
    }

    #[test]
    fn garbage_cursors_are_refused() {
        for bad in [
            "",
            "!!!",
            "bm90LWEtY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("1:not-a-uuid"),
        ] {
            assert!(Cursor::decode_cursor(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn page_sizes_over_the_cap_are_refused() {
        assert!(page_size("first", Some(101)).is_err());
        assert!(page_size("first", Some(-1)).is_err());
        assert_eq!(page_size("first", Some(100)).ok(), Some(100));
        assert_eq!(page_size("first", None).ok(), Some(DEFAULT_PAGE_SIZE));
    }
}
