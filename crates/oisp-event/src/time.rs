//! Event timestamps.
//!
//! OISP `ts` is an RFC 3339 string. This crate always *emits* the canonical
//! form `YYYY-MM-DDTHH:MM:SS.ffffffZ`: UTC, `Z` suffix, exactly six fractional
//! digits (microseconds, truncated — never rounded — from nanoseconds).

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// A capture instant: wall-clock and monotonic nanoseconds.
///
/// `wall_ns` is nanoseconds since the Unix epoch (UTC) and becomes `ts`;
/// `mono_ns` is a monotonic clock reading in nanoseconds and becomes
/// `ts_mono`. Neither clock is read by this crate: callers supply both, which
/// keeps event construction deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timestamp {
    /// Nanoseconds since the Unix epoch, UTC.
    pub wall_ns: u64,
    /// Monotonic clock nanoseconds (any fixed origin).
    pub mono_ns: u64,
}

impl Timestamp {
    /// Builds a timestamp from its two clock readings.
    pub const fn new(wall_ns: u64, mono_ns: u64) -> Self {
        Self { wall_ns, mono_ns }
    }

    /// The canonical `ts` string for `wall_ns` (see [`format_ts`]).
    pub fn ts_string(&self) -> String {
        format_ts(self.wall_ns)
    }
}

/// Error returned by [`parse_ts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for TsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid OISP timestamp {:?}: {}",
            self.input, self.reason
        )
    }
}

impl std::error::Error for TsError {}

/// Formats wall-clock nanoseconds since the Unix epoch as the canonical OISP
/// `ts`: RFC 3339, UTC (`Z`), exactly six fractional digits.
///
/// Sub-microsecond nanoseconds are truncated. Every `u64` input is
/// representable (the largest is in the year 2554).
///
/// ```
/// assert_eq!(
///     oisp_event::format_ts(1_766_434_505_123_456_789),
///     "2025-12-22T20:15:05.123456Z"
/// );
/// ```
pub fn format_ts(wall_ns: u64) -> String {
    let secs = (wall_ns / 1_000_000_000) as i64;
    let sub_micro_ns = ((wall_ns % 1_000_000_000) / 1_000 * 1_000) as u32;
    let dt = DateTime::<Utc>::from_timestamp(secs, sub_micro_ns)
        .expect("every u64 nanosecond count is within chrono's range");
    dt.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses an RFC 3339 timestamp (any offset, any fractional precision) back to
/// nanoseconds since the Unix epoch, UTC.
///
/// `parse_ts(&format_ts(n)) == Ok(n - n % 1_000)` for every `n`. Instants
/// before the epoch or after the `u64` nanosecond range are rejected.
pub fn parse_ts(ts: &str) -> Result<u64, TsError> {
    let err = |reason| TsError {
        input: ts.to_owned(),
        reason,
    };
    let dt = DateTime::parse_from_rfc3339(ts).map_err(|_| err("not RFC 3339"))?;
    let secs = u64::try_from(dt.timestamp()).map_err(|_| err("before the Unix epoch"))?;
    secs.checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(u64::from(dt.timestamp_subsec_nanos())))
        .ok_or_else(|| err("out of the u64 nanosecond range"))
}

/// Whether `ts` is in the canonical form this crate emits:
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` and a valid instant.
pub fn is_canonical_ts(ts: &str) -> bool {
    let b = ts.as_bytes();
    let shape_ok = b.len() == 27
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            26 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    shape_ok && parse_ts(ts).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_epoch_and_truncates() {
        assert_eq!(format_ts(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_ts(999), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_ts(1_500), "1970-01-01T00:00:00.000001Z");
        assert_eq!(parse_ts("1970-01-01T00:00:00.000001Z"), Ok(1_000));
        assert!(is_canonical_ts(&format_ts(u64::MAX)));
        assert_eq!(
            parse_ts(&format_ts(u64::MAX)),
            Ok(u64::MAX - u64::MAX % 1_000)
        );
    }

    #[test]
    fn parses_offsets_and_rejects_garbage() {
        assert_eq!(
            parse_ts("1970-01-01T01:00:00+01:00"),
            parse_ts("1970-01-01T00:00:00Z")
        );
        assert!(parse_ts("1969-12-31T23:59:59Z").is_err());
        assert!(parse_ts("yesterday").is_err());
        assert!(!is_canonical_ts("2025-12-22T20:15:05.123Z"));
        assert!(!is_canonical_ts("2025-12-22T20:15:05.123456+00:00"));
        assert!(!is_canonical_ts("2025-13-22T20:15:05.123456Z"));
        assert!(is_canonical_ts("2025-12-22T20:15:05.123456Z"));
    }
}
