//! Instant: the type of every timestamp column, and the one place where instants become SQL values.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue, ColIdx, IntoActiveValue, QueryResult, TryGetError, TryGetable, Value,
    sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr},
};

/// A UTC instant at microsecond precision, between [`Instant::MIN`] and [`Instant::MAX`].
///
/// Why not `DateTime<Utc>` itself: sqlx binds it to MySQL as a `TIMESTAMP` parameter, and
/// MariaDB turns a `TIMESTAMP` beyond 2038-01-19T03:14:07Z into a value that compares with
/// nothing, although the columns are `datetime(6)`. An `Instant` is bound as a
/// `DateTime<FixedOffset>` instead, which sea-query sends to MySQL as `YYYY-MM-DD hh:mm:ss.ffffff`
/// text (compared as a DATETIME), to PostgreSQL as `timestamptz` and to SQLite as the same
/// RFC 3339 text `DateTime<Utc>` gave (`…+00:00`), so rows written before compare as before.
///
/// The range is MySQL's `DATETIME` range, the narrowest of the three databases, applied on all
/// of them. Within it every backend orders instants correctly, SQLite's text included (four-digit
/// years only).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
// Only instants this server stored are ever serialised, so reading one back needs no range check.
#[serde(transparent)]
pub struct Instant(DateTime<Utc>);

/// 1000-01-01T00:00:00Z in microseconds since the Unix epoch.
const MIN_MICROS: i64 = -30_610_224_000_000_000;
/// 9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch.
const MAX_MICROS: i64 = 253_402_300_799_999_999;

impl Instant {
    /// The earliest instant every database stores: 1000-01-01T00:00:00Z.
    pub const MIN: Self =
        Self(DateTime::from_timestamp_micros(MIN_MICROS).expect("in chrono's range"));
    /// The latest instant every database stores: 9999-12-31T23:59:59.999999Z.
    pub const MAX: Self =
        Self(DateTime::from_timestamp_micros(MAX_MICROS).expect("in chrono's range"));

    /// `time` truncated to whole microseconds, or `None` outside [`Instant::MIN`, `Instant::MAX`].
    pub fn from_utc(time: DateTime<Utc>) -> Option<Self> {
        Self::from_micros(time.timestamp_micros())
    }

    /// The instant this many microseconds after the Unix epoch, or `None` outside the range.
    pub fn from_micros(micros: i64) -> Option<Self> {
        if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
            return None;
        }
        DateTime::from_timestamp_micros(micros).map(Self)
    }

    /// A value read from a column, which holds nothing outside the range (the database checks
    /// nothing; everything written went through this type).
    pub fn from_stored(time: DateTime<Utc>) -> Self {
        Self(time)
    }

    /// Now, at microsecond precision.
    pub fn now() -> Self {
        Self::from_utc(Utc::now()).unwrap_or(Self::MAX)
    }

    pub fn micros(self) -> i64 {
        self.0.timestamp_micros()
    }

    pub fn to_utc(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<Instant> for DateTime<Utc> {
    fn from(instant: Instant) -> Self {
        instant.0
    }
}

impl From<Instant> for Value {
    fn from(instant: Instant) -> Self {
        // Offset +00:00: SQLite stores the text, and it must read as rows written before did.
        Value::from(instant.0.fixed_offset())
    }
}

impl Nullable for Instant {
    fn null() -> Value {
        Value::ChronoDateTimeWithTimeZone(None)
    }
}

impl ValueType for Instant {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        match value {
            Value::ChronoDateTimeWithTimeZone(Some(time)) => Ok(Self(time.to_utc())),
            Value::ChronoDateTimeUtc(Some(time)) => Ok(Self(time)),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Instant".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::ChronoDateTimeWithTimeZone
    }

    fn column_type() -> ColumnType {
        ColumnType::TimestampWithTimeZone
    }
}

impl TryGetable for Instant {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        // Read as the driver reads a UTC timestamp: `timestamptz`, `datetime(6)` or RFC 3339 text.
        DateTime::<Utc>::try_get_by(res, index).map(Self)
    }
}

impl IntoActiveValue<Instant> for Instant {
    fn into_active_value(self) -> ActiveValue<Instant> {
        ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_mysqls_datetime_range() {
        assert_eq!(
            Instant::MIN.to_utc().to_rfc3339(),
            "1000-01-01T00:00:00+00:00"
        );
        assert_eq!(
            Instant::MAX.to_utc().to_rfc3339(),
            "9999-12-31T23:59:59.999999+00:00"
        );
    }

    #[test]
    fn instants_outside_the_range_are_refused_and_those_inside_truncated_to_microseconds() {
        let parse = |s: &str| s.parse::<DateTime<Utc>>().expect("a date");
        assert_eq!(
            Instant::from_utc(parse("0999-12-31T23:59:59.999999Z")),
            None
        );
        assert_eq!(Instant::from_utc(parse("+10000-01-01T00:00:00Z")), None);
        assert_eq!(
            Instant::from_utc(parse("2038-01-19T03:14:08.1234567Z")).map(|i| i.micros()),
            Some(parse("2038-01-19T03:14:08.123456Z").timestamp_micros())
        );
    }

    #[test]
    fn instants_bind_as_utc_datetimes_with_an_offset() {
        let instant = Instant::from_utc(Utc::now()).expect("now is in range");
        match Value::from(instant) {
            Value::ChronoDateTimeWithTimeZone(Some(time)) => {
                assert_eq!(time.offset().local_minus_utc(), 0);
                assert_eq!(time.to_utc(), instant.to_utc());
            }
            other => panic!("bound as {other:?}"),
        }
    }
}
