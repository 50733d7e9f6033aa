//! Deployment windows: `window { weekdays = [...], from = "09:00", until = "17:00" }`, read
//! in UTC.

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(hhmm: &str) -> Option<u64> {
    let (h, m) = hhmm.split_once(':')?;
    Some(h.trim().parse::<u64>().ok()? * 60 + m.trim().parse::<u64>().ok()?)
}

/// Whether the window is open at `now_unix` (seconds since the epoch, UTC).
pub fn open(weekdays: &[String], from: &str, until: &str, now_unix: u64) -> bool {
    let days = now_unix / 86_400;
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[((days + 3) % 7) as usize];
    let day_ok = weekdays.is_empty() || weekdays.iter().any(|d| d.to_lowercase().starts_with(weekday));
    let minute = (now_unix % 86_400) / 60;
    match (minutes(from), minutes(until)) {
        (Some(a), Some(b)) if a <= b => day_ok && (a..b).contains(&minute),
        // Across midnight: 22:00-04:00.
        (Some(a), Some(b)) => day_ok && (minute >= a || minute < b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::open;

    #[test]
    fn a_window_is_open_on_its_days_between_its_hours() {
        // 2026-12-02 was a Wednesday; 10:30 UTC.
        let wed_1030 = 1_796_207_400;
        let days = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(open(&days(&["mon", "wed"]), "09:00", "17:00", wed_1030));
        assert!(!open(&days(&["mon", "tue"]), "09:00", "17:00", wed_1030));
        assert!(!open(&days(&["wed"]), "11:00", "17:00", wed_1030));
        assert!(open(&days(&["wed"]), "22:00", "11:00", wed_1030));
    }
}

/// When the window next opens at or after `now_unix` (to the minute), within 8 days; `None`
/// for a window that never opens.
pub fn next_open(weekdays: &[String], from: &str, until: &str, now_unix: u64) -> Option<u64> {
    let start = now_unix - now_unix % 60;
    (0..8 * 24 * 60).map(|m| start + m * 60).find(|t| open(weekdays, from, until, *t))
}

/// `2026-12-03 09:00 UTC`.
pub fn format_utc(unix: u64) -> String {
    // Days to a civil date (Howard Hinnant's algorithm).
    let days = (unix / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let minutes = (unix % 86_400) / 60;
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod next_tests {
    use super::*;

    #[test]
    fn the_next_opening_is_found_and_printed_in_utc() {
        let wed_1030 = 1_796_207_400;
        assert_eq!(format_utc(wed_1030), "2026-12-02 10:30 UTC");
        let days = vec!["thu".to_string()];
        let opens = next_open(&days, "09:00", "17:00", wed_1030).unwrap();
        assert_eq!(format_utc(opens), "2026-12-03 09:00 UTC");
        assert_eq!(next_open(&days, "09:00", "09:00", wed_1030), None);
    }
}
