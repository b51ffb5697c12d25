//! Times in arguments and output: RFC 3339, strictly.
//!
//! Hand-written rather than a dependency: the tool needs one format, both
//! ways, and the whole grammar (RFC 3339 section 5.6) is a dozen fixed
//! fields; the tests below pin every rule.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::output::civil_from_days;

/// `2025-06-01T12:00:00Z`, `2025-06-01t14:00:00.25+02:00`,
/// `2025-06-01 12:00:00-00:30`: a date, `T` (or `t`, or a space), a time
/// with optional fractional seconds, and `Z` or an offset. Every field has
/// its exact width. Seconds of 60 (leap seconds) and times before 1970 are
/// refused: the system clock has neither.
pub fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    let mut p = Cursor { text: text.as_bytes(), at: 0 };
    let year = p.digits(4, "year")?;
    p.expect(b"-", "`-` after the year")?;
    let month = p.digits(2, "month")?;
    p.expect(b"-", "`-` after the month")?;
    let day = p.digits(2, "day")?;
    p.expect(b"Tt ", "`T` between the date and the time")?;
    let hour = p.digits(2, "hour")?;
    p.expect(b":", "`:` after the hour")?;
    let minute = p.digits(2, "minute")?;
    p.expect(b":", "`:` after the minute")?;
    let second = p.digits(2, "second")?;
    let nanos = p.fraction()?;
    let offset_secs = p.offset()?;
    if p.at != p.text.len() {
        return Err(format!("unexpected {:?} after the time", &text[p.at..]));
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is not 01 to 12"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(format!("{year:04}-{month:02} has no day {day:02}"));
    }
    match (hour, minute, second) {
        (24.., _, _) => return Err(format!("hour {hour} is not 00 to 23")),
        (_, 60.., _) => return Err(format!("minute {minute} is not 00 to 59")),
        (_, _, 60) => return Err("second 60 (a leap second) cannot be represented".into()),
        (_, _, 61..) => return Err(format!("second {second} is not 00 to 59")),
        _ => {}
    }
    let local = days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let secs = local - offset_secs;
    let secs = u64::try_from(secs).map_err(|_| "the time is before 1970-01-01T00:00:00Z".to_string())?;
    Ok(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// `time` as RFC 3339 in UTC with milliseconds, `2025-06-01T12:00:00.250Z`:
/// what [`parse_rfc3339`] reads back (commit times are kept in milliseconds).
pub fn rfc3339(time: SystemTime) -> String {
    let ms = time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rest / 3600, rest / 60 % 60, rest % 60, ms % 1000)
}

/// A time in JSON: RFC 3339 as [`rfc3339`] writes it.
pub fn json(time: SystemTime) -> serde_json::Value {
    serde_json::Value::String(rfc3339(time))
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// Exactly `width` ASCII digits.
    fn digits(&mut self, width: usize, what: &str) -> Result<u32, String> {
        let field = self.text.get(self.at..self.at + width).filter(|f| f.iter().all(u8::is_ascii_digit));
        let field = field.ok_or_else(|| format!("expected the {what} as {width} digits"))?;
        self.at += width;
        Ok(field.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    fn expect(&mut self, one_of: &[u8], what: &str) -> Result<(), String> {
        match self.text.get(self.at) {
            Some(c) if one_of.contains(c) => {
                self.at += 1;
                Ok(())
            }
            _ => Err(format!("expected {what}")),
        }
    }

    /// `.` and one or more digits, if there: nanoseconds (digits past the
    /// ninth are read and dropped).
    fn fraction(&mut self) -> Result<u32, String> {
        if self.text.get(self.at) != Some(&b'.') {
            return Ok(0);
        }
        self.at += 1;
        let digits = self.text[self.at..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err("expected digits after the `.` of the seconds".into());
        }
        let kept = &self.text[self.at..self.at + digits.min(9)];
        let nanos = kept.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')) * 10u32.pow(9 - kept.len() as u32);
        self.at += digits;
        Ok(nanos)
    }

    /// `Z` (or `z`): 0; `+hh:mm` or `-hh:mm`: seconds east of UTC.
    fn offset(&mut self) -> Result<i64, String> {
        let sign = match self.text.get(self.at) {
            Some(b'Z' | b'z') => {
                self.at += 1;
                return Ok(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err("expected `Z` or an offset such as +02:00 after the time".into()),
        };
        self.at += 1;
        let hours = self.digits(2, "offset's hours")?;
        self.expect(b":", "`:` in the offset")?;
        let minutes = self.digits(2, "offset's minutes")?;
        if hours > 23 || minutes > 59 {
            return Err(format!("offset {hours:02}:{minutes:02} is out of range"));
        }
        Ok(sign * i64::from(hours * 3600 + minutes * 60))
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix_ms(text: &str) -> u128 {
        parse_rfc3339(text).unwrap().duration_since(UNIX_EPOCH).unwrap().as_millis()
    }

    #[test]
    fn utc_offsets_and_fractions() {
        assert_eq!(unix_ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(unix_ms("2000-02-29T00:00:00Z"), 951_782_400_000);
        assert_eq!(unix_ms("2025-12-31T23:59:59.999Z"), 1_767_225_599_999);
        assert_eq!(unix_ms("2026-01-01t01:59:59.999+02:00"), 1_767_225_599_999);
        assert_eq!(unix_ms("2025-12-31 22:29:59.999-01:30"), 1_767_225_599_999);
        assert_eq!(unix_ms("2025-12-31T23:59:59.9991234567z"), 1_767_225_599_999);
        let nanos = parse_rfc3339("1970-01-01T00:00:01.000000123Z").unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(nanos, Duration::new(1, 123));
    }

    #[test]
    fn written_times_read_back() {
        for ms in [0, 951_782_400_000, 1_767_225_599_999, 4_102_444_800_001] {
            let time = UNIX_EPOCH + Duration::from_millis(ms);
            assert_eq!(parse_rfc3339(&rfc3339(time)), Ok(time), "{}", rfc3339(time));
        }
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(1_767_225_599_999)), "2025-12-31T23:59:59.999Z");
    }

    #[test]
    fn anything_else_is_refused_saying_why() {
        let refused = [
            ("2025-06-01", "`T`"),
            ("2025-06-01T12:00:00", "`Z` or an offset"),
            ("2025-06-01T12:00Z", "`:` after the minute"),
            ("2025-6-01T12:00:00Z", "month as 2 digits"),
            ("2025-06-01T12:00:00.Z", "digits after the `.`"),
            ("2025-06-01T12:00:00+0200", "`:` in the offset"),
            ("2025-06-01T12:00:00+24:00", "out of range"),
            ("2025-06-01T12:00:00Z ", "unexpected \" \""),
            ("2025-13-01T12:00:00Z", "month 13"),
            ("2025-02-29T12:00:00Z", "no day 29"),
            ("2024-04-31T12:00:00Z", "no day 31"),
            ("2025-06-01T24:00:00Z", "hour 24"),
            ("2025-06-01T12:60:00Z", "minute 60"),
            ("2016-12-31T23:59:60Z", "leap second"),
            ("1969-12-31T23:59:59Z", "before 1970"),
            ("1970-01-01T00:30:00+01:00", "before 1970"),
            ("yesterday", "year as 4 digits"),
            ("", "year"),
        ];
        for (text, why) in refused {
            let e = parse_rfc3339(text).expect_err(text);
            assert!(e.contains(why), "{text:?}: {e}");
        }
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_ok());
    }
}
