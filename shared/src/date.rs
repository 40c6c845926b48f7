//! Calendar dates (UTC) for pairing expiry. Small enough not to need a date crate.

use serde::{Serialize, Serializer};
use std::fmt;

/// A calendar day (UTC), as pairing expiry compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The day, if it exists (leap years checked).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// `YYYY-MM-DD`, or the date part of an RFC 3339 timestamp such as CloudTrail's
    /// `eventTime`.
    pub fn parse(s: &str) -> Option<Date> {
        let d = s.get(..10)?;
        if s.len() > 10 && !s[10..].starts_with('T') {
            return None;
        }
        let b = d.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        // Digits only: `str::parse` would also take a sign (`+027-06-30`).
        if b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return None;
        }
        Date::new(
            d[..4].parse().ok()?,
            d[5..7].parse().ok()?,
            d[8..10].parse().ok()?,
        )
    }

    /// A day written as `YYYY-MM-DD` and nothing more: where a time would be dropped
    /// unread (an allowlist's `expires`), a timestamp is refused, not cut to its date.
    pub fn parse_day(s: &str) -> Option<Date> {
        if s.len() == 10 {
            Date::parse(s)
        } else {
            None
        }
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2))
    }

    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    // Day (1..=31) and month (1..=12) are in range by construction; the year fits an i32
    // for any day count within ±700 billion years.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl Date {
    /// Days since 1970-01-01: the inverse of [`Date::from_days`].
    pub fn days(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(20_454).to_string(), "2026-01-01");
        assert_eq!(Date::from_days(11_016).to_string(), "2000-02-29");
        assert_eq!(Date::parse("2027-06-30"), Date::new(2027, 6, 30));
        assert_eq!(Date::parse("2019-01-01T00:00:00Z"), Date::new(2019, 1, 1));
        assert!(Date::parse("2027-02-29").is_none());
        assert!(Date::parse("2028-02-29").is_some());
        assert!(Date::parse("2027/06/30").is_none());
        assert!(Date::parse("2027-06-30x").is_none());
        for signed in ["+027-06-30", "2027-+6-30", "2027-06-+3", "-027-06-30"] {
            assert!(Date::parse(signed).is_none(), "{signed}");
        }
        assert_eq!(Date::parse_day("2027-06-30"), Date::new(2027, 6, 30));
        for timed in ["2027-06-30T10:00:00Z", "2027-06-30Tgarbage", "2027-06-30T"] {
            assert!(Date::parse_day(timed).is_none(), "{timed}");
        }
        assert!(Date::new(2027, 6, 30) < Date::new(2027, 7, 1));
        assert!(Date::today() > Date::new(2024, 1, 1).unwrap());
        for z in [-800_000, -1, 0, 11_016, 20_454, 1_000_000] {
            assert_eq!(Date::from_days(z).days(), z);
        }
    }
}
