//! The SSE encoder (`server::stream::event`), read back by the event-stream parser of the
//! WHATWG HTML standard (§9.2.6, written out below independently of the encoder).
//!
//! For any id, event name and data: the encoded bytes are exactly one event, with no field
//! but the `id`, `event` and `data` lines asked for (no comment, no `retry`, nothing after
//! the event's end); the event's data is the input's with every line break (CRLF, CR, LF)
//! made `\n`, its type and last event id the input's without the characters that cannot be
//! in them. Two events in a row, after a `retry:` field, are read as those two events.
//! `retry_field(base, jitter)` sets only the reconnection time, to a value in
//! `base ..= base + jitter`, and dispatches nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statuscast::server::stream::event::{encode_event, retry_field};

struct Event {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

/// The input, readable (the seeds are): `id \xff event \xff data \xff id \xff event \xff
/// data \xff retry`, 0xFF never being in UTF-8; a lone 0xFE part is an absent id or event;
/// other bytes that are not UTF-8 are read as U+FFFD. The retry part: base and jitter in ms,
/// 8 bytes each, little-endian.
struct Input {
    first: Event,
    second: Event,
    retry_base: u64,
    retry_jitter: u64,
}

impl Input {
    fn read(bytes: &[u8]) -> Input {
        let parts: Vec<&[u8]> = bytes.splitn(7, |&b| b == 0xff).collect();
        let part = |i: usize| parts.get(i).copied().unwrap_or_default();
        let text = |i: usize| String::from_utf8_lossy(part(i)).into_owned();
        let optional = |i: usize| (part(i) != [0xfe]).then(|| text(i));
        let event = |i: usize| Event { id: optional(i), event: optional(i + 1), data: text(i + 2) };
        let mut retry = part(6).to_vec();
        retry.resize(16, 0);
        Input {
            first: event(0),
            second: event(3),
            retry_base: u64::from_le_bytes(retry[..8].try_into().unwrap()),
            retry_jitter: u64::from_le_bytes(retry[8..16].try_into().unwrap()),
        }
    }
}

#[derive(Debug, PartialEq)]
struct Dispatched {
    kind: String,
    data: String,
    last_event_id: String,
}

/// What a browser's `EventSource` makes of a stream.
#[derive(Debug, Default)]
struct Parsed {
    events: Vec<Dispatched>,
    /// Every field line's name, in order (comments are `:`).
    fields: Vec<String>,
    retry: Option<u64>,
    /// Bytes of an event not ended by an empty line when the stream ended.
    pending: bool,
}

fn parse(stream: &str) -> Parsed {
    let mut out = Parsed::default();
    let stream = stream.strip_prefix('\u{feff}').unwrap_or(stream);
    let (mut data, mut kind, mut last_id_buffer) = (String::new(), String::new(), String::new());
    let mut rest = stream;
    loop {
        // A line ends at CRLF, LF or CR; a line with no end is not a line (the stream ended).
        let Some(i) = rest.find(['\r', '\n']) else {
            out.pending = !rest.is_empty() || !data.is_empty() || !kind.is_empty();
            break;
        };
        let line = &rest[..i];
        rest = &rest[i + if rest[i..].starts_with("\r\n") { 2 } else { 1 }..];
        if line.is_empty() {
            // The last event id string is set from its buffer even when nothing is dispatched.
            if data.is_empty() {
                kind.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            let kind = std::mem::take(&mut kind);
            out.events.push(Dispatched {
                kind: if kind.is_empty() { "message".into() } else { kind },
                data: std::mem::take(&mut data),
                last_event_id: last_id_buffer.clone(),
            });
            continue;
        }
        if line.starts_with(':') {
            out.fields.push(":".into());
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        out.fields.push(name.into());
        match name {
            "event" => kind = value.into(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => last_id_buffer = value.into(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => out.retry = value.parse().ok(),
            _ => {}
        }
    }
    out
}

fn normalised(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

fn expected(e: &Event, last_id_before: &str) -> Dispatched {
    let kind: String = e.event.as_deref().unwrap_or("").chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    Dispatched {
        kind: if kind.is_empty() { "message".into() } else { kind },
        data: normalised(&e.data),
        last_event_id: match &e.id {
            Some(id) => id.chars().filter(|c| !matches!(c, '\0' | '\r' | '\n')).collect(),
            None => last_id_before.into(),
        },
    }
}

fn expected_fields(e: &Event) -> Vec<String> {
    let mut f = Vec::new();
    if e.id.is_some() {
        f.push("id".to_string());
    }
    if e.event.is_some() {
        f.push("event".to_string());
    }
    let lines = normalised(&e.data).split('\n').count();
    f.extend(std::iter::repeat_n("data".to_string(), lines));
    f
}

fuzz_target!(|bytes: &[u8]| {
    let input = Input::read(bytes);
    let one = |e: &Event| encode_event(e.id.as_deref(), e.event.as_deref(), &e.data);

    let first = one(&input.first);
    let p = parse(&first);
    assert!(!p.pending, "the event is ended: {first:?}");
    assert_eq!(p.fields, expected_fields(&input.first), "fields of {first:?}");
    assert_eq!(p.events, [expected(&input.first, "")], "{first:?}");
    assert_eq!(p.retry, None);

    // retry_field(base, jitter) draws from base ..= base + jitter (saturating at u64::MAX).
    let (base, jitter) = (input.retry_base, input.retry_jitter);
    let retry = retry_field(base, jitter);
    let r = parse(&retry);
    assert!(r.events.is_empty() && !r.pending && r.fields == ["retry"], "{retry:?}");
    let ms = r.retry.expect("a retry value");
    assert!(ms >= base && ms <= base.saturating_add(jitter), "{ms} from {base} + {jitter}");

    // A stream as the hub sends it: retry, then events one after another.
    let second = one(&input.second);
    let p = parse(&format!("{retry}{first}{second}"));
    assert!(!p.pending);
    let first_event = expected(&input.first, "");
    let second_event = expected(&input.second, &first_event.last_event_id);
    assert_eq!(p.events, [first_event, second_event]);
    assert_eq!(p.retry, Some(ms));
});
