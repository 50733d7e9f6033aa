//! Change freezes: `freeze { from = "2026-12-20", until = "2027-01-04" }`, read in UTC.

/// Seconds since the epoch of `YYYY-MM-DD` (midnight) or `YYYY-MM-DDTHH:MM` (a space for
/// the `T` too), UTC; `None` for anything else.
pub fn parse_utc(text: &str) -> Option<u64> {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) =
        (parts.next()?.parse::<i64>().ok()?, parts.next()?.parse::<i64>().ok()?, parts.next()?.parse::<i64>().ok()?);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    let minutes = match time {
        Some(t) => {
            let (h, min) = t.split_once(':')?;
            let (h, min) = (h.parse::<u64>().ok()?, min.parse::<u64>().ok()?);
            if h > 23 || min > 59 {
                return None;
            }
            h * 60 + min
        }
        None => 0,
    };
    // Civil date to days since the epoch (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as u64 * 86_400 + minutes * 60)
}

/// Whether `now_unix` falls in the freeze; an error naming the date that cannot be read, so
/// that a freeze nobody can read is never taken for no freeze.
pub fn frozen(from: &str, until: &str, now_unix: u64) -> Result<bool, String> {
    let read = |text: &str| {
        parse_utc(text)
            .ok_or_else(|| format!("the freeze date `{text}` is not `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC)"))
    };
    let (a, b) = (read(from)?, read(until)?);
    Ok((a..b).contains(&now_unix))
}

#[cfg(test)]
mod tests {
    use super::{frozen, parse_utc};

    #[test]
    fn dates_and_times_are_read_in_utc() {
        assert_eq!(parse_utc("1970-01-01"), Some(0));
        // 2026-12-02 10:30 UTC, as the window tests use.
        assert_eq!(parse_utc("2026-12-02T10:30"), Some(1_796_207_400));
        assert_eq!(parse_utc("2026-12-02 10:30"), Some(1_796_207_400));
        assert_eq!(parse_utc("2024-02-29"), Some(1_709_164_800));
        for bad in ["2026-13-01", "2026-12", "next week", "2026-12-02T25:00", ""] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_freeze_holds_from_its_start_until_just_before_its_end() {
        let start = 1_796_169_600; // 2026-12-02 00:00 UTC
        assert_eq!(frozen("2026-12-02", "2026-12-03", start), Ok(true));
        assert_eq!(frozen("2026-12-02", "2026-12-03", start - 1), Ok(false));
        assert_eq!(frozen("2026-12-02", "2026-12-03", start + 86_400), Ok(false));
        assert!(frozen("soon", "2026-12-03", start).unwrap_err().contains("`soon`"));
    }
}
