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

    fn sql(condition: Condition) -> String {
        Entity::find()
            .filter(condition)
            .build(DbBackend::Postgres)
            .to_string()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    #[test]
    fn bounds_beyond_the_stored_range_are_decided_without_the_database() {
        assert!(
            sql(after(Column::CreatedAt, at("0999-12-31T23:59:59Z")))
                .ends_with("\"blacklist_entry\"")
        );
        assert!(
            sql(before(Column::CreatedAt, at("+10000-01-01T00:00:00Z")))
                .ends_with("\"blacklist_entry\"")
        );
        assert!(
            sql(after(Column::CreatedAt, at("+10000-01-01T00:00:00Z"))).ends_with("WHERE FALSE")
        );
        assert!(
            sql(before(Column::CreatedAt, at("-0001-01-01T00:00:00Z"))).ends_with("WHERE FALSE")
        );
        assert!(sql(before(Column::CreatedAt, at("1000-01-01T00:00:00Z"))).contains("<"));
    }

    #[test]
    fn sub_microsecond_bounds_round_the_way_that_keeps_the_comparison_exact() {
        let before_sql = sql(before(
            Column::CreatedAt,
            at("2038-01-19T03:14:08.0000001Z"),
        ));
        assert!(
            before_sql.contains("2038-01-19 03:14:08.000001"),
            "{before_sql}"
        );
        let after_sql = sql(after(Column::CreatedAt, at("2038-01-19T03:14:08.0000009Z")));
        assert!(after_sql.contains("2038-01-19 03:14:08 "), "{after_sql}");
    }
}
