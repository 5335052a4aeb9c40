//! Text for pages, shared by the server and the browser: times in UTC and durations in
//! words. (HTML is never built from strings: `view!` escapes every value.)

/// "42 min", "3 h 5 min", "2 days 4 h".
pub fn duration_text(ms: i64) -> String {
    let min = ms.max(0) / 60_000;
    match min {
        0..=59 => format!("{min} min"),
        60..=1439 => format!("{} h {} min", min / 60, min % 60),
        _ => format!("{} days {} h", min / 1440, min % 1440 / 60),
    }
}

/// Year, month, day and seconds into the day of a Unix time in milliseconds (UTC).
pub fn civil(ms: i64) -> (i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d, secs.rem_euclid(86_400))
}

/// `2026-11-28 22:05 UTC`.
pub fn utc_minute(ms: i64) -> String {
    let (y, m, d, s) = civil(ms);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", s / 3600, s % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_text(42 * 60_000), "42 min");
        assert_eq!(duration_text(65 * 60_000), "1 h 5 min");
        assert_eq!(duration_text(3 * 86_400_000 + 7_200_000), "3 days 2 h");
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_795_903_500_000), "2026-11-28 22:05 UTC");
        assert_eq!(civil(951_782_400_000), (2000, 2, 29, 0));
    }
}
