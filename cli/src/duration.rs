//! Durations in arguments: a whole number and a unit, `100ms`, `60s`,
//! `5m`, `24h`, `7d`.

use std::time::Duration;

/// Parses `text`; the error says what is accepted.
pub fn parse(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("{text:?} is not a duration: a whole number and a unit (ms, s, m, h, d), e.g. 60s or 24h");
    let n: u64 = number.parse().map_err(|_| bad())?;
    let per = match unit {
        "ms" => Duration::from_millis(1),
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        "d" => Duration::from_secs(86_400),
        _ => return Err(bad()),
    };
    let n = u32::try_from(n).map_err(|_| bad())?;
    per.checked_mul(n).filter(|d| !d.is_zero()).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_units() {
        assert_eq!(parse("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "60", "s", "1.5s", "-1s", "0s", "10 s", "1w", "99999999999s"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
