//! The SSE wire format (WHATWG HTML §9.2): one event's fields, and the `retry:` field.
//! Encoded once per snapshot by the hub; every stream sends the same bytes.

/// Encodes one event. `data` is split into one `data:` line per line, where CRLF, CR and LF
/// all end a line. `id` and `event` must not hold line breaks (or NUL, for `id`): those
/// characters are dropped so that no field can be injected.
pub fn encode_event(id: Option<&str>, event: Option<&str>, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 32);
    if let Some(id) = id {
        out.push_str("id: ");
        out.extend(id.chars().filter(|c| !matches!(c, '\0' | '\r' | '\n')));
        out.push('\n');
    }
    if let Some(event) = event {
        out.push_str("event: ");
        out.extend(event.chars().filter(|c| !matches!(c, '\r' | '\n')));
        out.push('\n');
    }
    for line in split_lines(data) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Splits on CRLF, CR and LF, as an SSE parser does.
fn split_lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(s)
            }
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
        }
    })
}

/// `retry: N` with N drawn from `base ..= base + jitter` milliseconds (at most `u64::MAX`:
/// the settings do not bound either).
pub fn retry_field(base_ms: u64, jitter_ms: u64) -> String {
    let ms = base_ms.saturating_add(if jitter_ms > 0 { fastrand::u64(0..=jitter_ms) } else { 0 });
    format!("retry: {ms}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_split_on_crlf_cr_and_lf() {
        let ev = encode_event(Some("7"), Some("status"), "a\r\nb\rc\nd");
        assert_eq!(ev, "id: 7\nevent: status\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    }

    #[test]
    fn empty_and_trailing_lines_are_kept() {
        assert_eq!(encode_event(None, None, ""), "data: \n\n");
        assert_eq!(encode_event(None, None, "x\n"), "data: x\ndata: \n\n");
        assert_eq!(encode_event(None, None, "\n\n"), "data: \ndata: \ndata: \n\n");
    }

    #[test]
    fn id_and_event_cannot_inject_fields() {
        let ev = encode_event(Some("1\nevent: evil\0"), Some("x\r\ndata: y"), "z");
        assert_eq!(ev, "id: 1event: evil\nevent: xdata: y\ndata: z\n\n");
        assert_eq!(ev.matches('\n').count(), 4);
    }

    #[test]
    fn retry_is_jittered_within_bounds() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let r = retry_field(1000, 2000);
            let ms: u64 = r.trim_start_matches("retry: ").trim().parse().unwrap();
            assert!((1000..=3000).contains(&ms), "{ms}");
            assert!(r.ends_with("\n\n"));
            seen.insert(ms);
        }
        assert!(seen.len() > 50, "retries are spread, got {} distinct", seen.len());
        assert_eq!(retry_field(1500, 0), "retry: 1500\n\n");
    }

    #[test]
    fn retry_saturates_instead_of_overflowing() {
        // Found by the fuzz target `sse_event`: base + jitter past u64::MAX panicked (debug)
        // or wrapped to a tiny delay (release).
        assert_eq!(retry_field(u64::MAX, u64::MAX), format!("retry: {}\n\n", u64::MAX));
        assert_eq!(retry_field(u64::MAX - 1, 0), format!("retry: {}\n\n", u64::MAX - 1));
    }
}
