//! The clock and calendar: the current time in Unix milliseconds (the one time base of the
//! server), and calendar arithmetic for the few places that read or write times as text
//! (RFC 3339 in the API, X.509 validity in certificates), without a date library.

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// `2026-11-28T22:00:00Z` (or with `.fff` and a `+hh:mm` offset) as Unix milliseconds: an
/// RFC 3339 date-time (a space may stand for the `T`) with a date that exists; `None` for
/// anything else (never a panic, whatever the bytes).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    // Digits only: `str::parse` would also take a sign ("+1").
    let n = |r: std::ops::Range<usize>| b[r].iter().try_fold(0, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')));
    let (y, mo, d, h, mi, se) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        ms = frac[..digits.min(3)].iter().fold(0, |n, &c| n * 10 + i64::from(c - b'0')) * [100, 10, 1][digits.min(3) - 1];
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (n(b.len() - 5..b.len() - 3)?, n(b.len() - 2..b.len())?);
            if oh > 23 || om > 59 {
                return None;
            }
            if *sign == b'-' {
                -(oh * 60 + om)
            } else {
                oh * 60 + om
            }
        }
        _ => return None,
    };
    Some(((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se) - offset_min * 60) * 1000 + ms)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix milliseconds as `2026-11-28T22:00:00Z`.
pub fn rfc3339(ms: i64) -> String {
    let (y, m, d, rem) = crate::model::civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn rfc3339_round_trips_and_understands_offsets() {
        let t = parse_rfc3339("2026-11-28T22:00:00Z").unwrap();
        assert_eq!(rfc3339(t), "2026-11-28T22:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-28T23:30:00+01:30"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-28T22:00:00.250Z"), Some(t + 250));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        for bad in ["tomorrow", "2026-13-01T00:00:00Z", "2026-11-28 22:00", "2026-11-28T22:00:00", "2026-11-28T25:00:00Z"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_is_read_strictly_and_never_panics() {
        // Found by the fuzz target `forms`: an offset with a multi-byte character in it
        // panicked (slicing inside a character), signs were read as digits ("22:-0", "+1"),
        // and dates that do not exist were moved on (February 31 was March 3).
        assert_eq!(parse_rfc3339("2026-11-28T22:00:00+\u{e9}\u{e9}1"), None);
        assert_eq!(parse_rfc3339("2026-11-28T22:00:00+1\u{e9}12"), None);
        for bad in [
            "1013-12-01T22:-0:00Z",
            "2026-11-28T+1:00:00Z",
            "+026-11-28T22:00:00Z",
            "2026-02-31T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-28T22:00:00+24:00",
            "2026-11-28T22:00:00+01:60",
            "2026-11-28T22:00:00+-1:00",
            "2026-11-28T22:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(parse_rfc3339("2028-02-29T00:00:00Z"), Some(days_from_civil(2028, 2, 29) * 86_400_000));
        assert_eq!(parse_rfc3339("2000-02-29t00:00:00z"), Some(days_from_civil(2000, 2, 29) * 86_400_000));
        assert_eq!(parse_rfc3339("1970-01-01 00:00:00.5Z"), Some(500));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.05Z"), Some(50));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.0129Z"), Some(12));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00-23:59"), Some((23 * 60 + 59) * 60_000));
    }
}
