//! Text for pages, shared by the server and the browser: HTML escaping for the few pieces
//! built as HTML strings, and times in UTC.

/// `s` with `& < > " '` escaped, safe in element content and in quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An incident's timeline as the `<li>` items of its `<ol class="timeline">`, text escaped.
/// One string, so the browser builds it without a view per update (smaller bundle); the
/// server renders resolved incidents with the same markup.
pub fn timeline_html(updates: &[super::IncidentUpdate]) -> String {
    updates
        .iter()
        .map(|u| {
            format!(
                "<li><strong>{}</strong> <span class=\"update-message\">{}</span> <time>{}</time></li>",
                u.status.label(),
                escape_html(&u.message),
                utc_minute(u.at_ms)
            )
        })
        .collect()
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
    fn escapes_markup_and_quotes() {
        assert_eq!(escape_html(r#"<script>alert("x" & 'y')</script>"#), "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
        assert_eq!(escape_html("plain é"), "plain é");
    }

    #[test]
    fn utc_times() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_795_903_500_000), "2026-11-28 22:05 UTC");
        assert_eq!(civil(951_782_400_000), (2000, 2, 29, 0));
    }
}
