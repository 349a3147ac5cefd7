//! Keyset pagination over any entity listed in (created_at, id) order: a window of rows after or
//! before a position, one row more than asked to tell whether another page follows, and the
//! number of matching rows on all pages. The order is total, so pages stay stable under inserts.

use entity::Instant;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, sea_query::Order,
};
use uuid::Uuid;

use crate::error::ApiError;

/// An entity listed oldest first: its creation instant and id columns, and a row's position.
pub trait CreationOrdered: EntityTrait {
    fn created_at_column() -> Self::Column;
    fn id_column() -> Self::Column;
    fn position(row: &Self::Model) -> Position;
}

/// A position in the (created_at, id) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub created_at: Instant,
    pub id: Uuid,
}

/// Which slice of the order to read: `limit` rows after `after`, or the last `limit` before `before`.
pub enum Window {
    Forward {
        after: Option<Position>,
        limit: u64,
    },
    Backward {
        before: Option<Position>,
        limit: u64,
    },
}

pub struct Page<M> {
    pub rows: Vec<M>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

/// One page of what `filtered` selects.
pub async fn page<E>(
    db: &impl ConnectionTrait,
    filtered: Select<E>,
    window: Window,
) -> Result<Page<E::Model>, ApiError>
where
    E: CreationOrdered,
    E::Model: Sync,
{
    let total_count = filtered.clone().count(db).await?;
    let (cursor_condition, order, limit) = match &window {
        Window::Forward { after, limit } => (
            after.map(|p| beyond::<E>(p, Order::Asc)),
            Order::Asc,
            *limit,
        ),
        Window::Backward { before, limit } => (
            before.map(|p| beyond::<E>(p, Order::Desc)),
            Order::Desc,
            *limit,
        ),
    };
    let mut rows = filtered
        .apply_if(cursor_condition, |query, condition| query.filter(condition))
        .order_by(E::created_at_column(), order.clone())
        .order_by(E::id_column(), order)
        .limit(limit + 1)
        .all(db)
        .await?;
    // One row more than asked tells whether another page follows, without a second query.
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(match window {
        Window::Forward { after, .. } => Page {
            rows,
            has_previous_page: after.is_some(),
            has_next_page: more,
            total_count,
        },
        Window::Backward { before, .. } => {
            rows.reverse();
            Page {
                rows,
                has_previous_page: more,
                has_next_page: before.is_some(),
                total_count,
            }
        }
    })
}

/// Rows strictly after `position` in the direction of `order`.
fn beyond<E: CreationOrdered>(position: Position, order: Order) -> Condition {
    let (created_at, id) = (E::created_at_column(), E::id_column());
    let (time, id_beyond) = match order {
        Order::Desc => (created_at.lt(position.created_at), id.lt(position.id)),
        _ => (created_at.gt(position.created_at), id.gt(position.id)),
    };
    Condition::any().add(time).add(
        Condition::all()
            .add(created_at.eq(position.created_at))
            .add(id_beyond),
    )
}
