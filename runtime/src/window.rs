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
