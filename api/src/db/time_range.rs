//! Comparing a timestamp column with any instant a client may send, exactly.
//!
//! The `DateTime` scalar accepts years from -262143 to +262142; the columns hold
//! [`Instant::MIN`]..=[`Instant::MAX`] (years 1000 to 9999) and microseconds. A bound outside
//! that range is decided here without asking the database, since no stored instant lies beyond
//! it; a bound inside is rounded to the microsecond in the direction that keeps the comparison
//! exact. Either way the answer is the one the comparison means, never an error or an empty match.

use chrono::{DateTime, TimeDelta, Utc};
use entity::Instant;
use sea_orm::{ColumnTrait, Condition};

/// Rows whose `column` is strictly after `time`.
pub fn after(column: impl ColumnTrait, time: DateTime<Utc>) -> Condition {
    if time < Instant::MIN.to_utc() {
        return always();
    }
    // A stored value (whole microseconds) is after `time` exactly when it is after `time`'s microsecond.
    match Instant::from_utc(time) {
        Some(floor) => Condition::all().add(column.gt(floor)),
        None => never(),
    }
}

/// Rows whose `column` is strictly before `time`.
pub fn before(column: impl ColumnTrait, time: DateTime<Utc>) -> Condition {
    if time > Instant::MAX.to_utc() {
        return always();
    }
    // A stored value is before `time` exactly when it is before the next whole microsecond.
    let ceiling = Instant::from_utc(time).map(|floor| {
        if floor.to_utc() < time {
            Instant::from_utc(floor.to_utc() + TimeDelta::microseconds(1)).unwrap_or(floor)
        } else {
            floor
        }
    });
    match ceiling {
        Some(ceiling) => Condition::all().add(column.lt(ceiling)),
        None => never(),
    }
}

/// Renders as TRUE.
fn always() -> Condition {
    Condition::all()
}

/// Renders as FALSE.
fn never() -> Condition {
    Condition::any()
}

#[cfg(test)]
mod tests {
    use entity::blacklist_entry::{Column, Entity};
    use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait};

    use super::*;

    /// The WHERE clause the condition renders as, on PostgreSQL.
    fn sql(condition: Condition) -> String {
        let select = Entity::find()
            .filter(condition)
            .build(DbBackend::Postgres)
            .to_string();
        select
            .split_once("FROM \"blacklist_entry\"")
            .map(|(_, clause)| clause.trim().to_owned())
            .unwrap_or(select)
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    #[test]
    fn bounds_beyond_the_stored_range_are_decided_without_the_database() {
        for always in [
            after(Column::CreatedAt, at("0999-12-31T23:59:59Z")),
            before(Column::CreatedAt, at("+10000-01-01T00:00:00Z")),
        ] {
            assert!(
                !sql(always.clone()).contains("created_at"),
                "{}",
                sql(always)
            );
        }
        assert_eq!(
            sql(after(Column::CreatedAt, at("+10000-01-01T00:00:00Z"))),
            "WHERE FALSE"
        );
        assert_eq!(
            sql(before(Column::CreatedAt, at("-0001-01-01T00:00:00Z"))),
            "WHERE FALSE"
        );
        assert_eq!(
            sql(before(Column::CreatedAt, at("1000-01-01T00:00:00Z"))),
            "WHERE \"blacklist_entry\".\"created_at\" < '1000-01-01 00:00:00.000000 +00:00'"
        );
    }

    #[test]
    fn sub_microsecond_bounds_round_the_way_that_keeps_the_comparison_exact() {
        assert_eq!(
            sql(before(
                Column::CreatedAt,
                at("2038-01-19T03:14:08.0000001Z")
            )),
            "WHERE \"blacklist_entry\".\"created_at\" < '2038-01-19 03:14:08.000001 +00:00'"
        );
        assert_eq!(
            sql(after(Column::CreatedAt, at("2038-01-19T03:14:08.0000009Z"))),
            "WHERE \"blacklist_entry\".\"created_at\" > '2038-01-19 03:14:08.000000 +00:00'"
        );
    }
}
