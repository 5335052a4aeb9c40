//! The operator's requests: the admin forms (`application/x-www-form-urlencoded`) and the
//! JSON API's bodies, decoded into incidents, updates, maintenance windows and overrides.
//!
//! The admin area's own field reading (`Fields::one`/`all`, the `datetime-local` reading and
//! the id parsing in `server::http::admin`) is private: it is copied here as it is, and the
//! public validation it hands the fields to (`server::domain::operator`) is what is fuzzed,
//! with the same inputs the admin area and the JSON API build.
//!
//! - Nothing panics.
//! - A refusal names one of the request's fields and says something.
//! - What is accepted keeps the rules: titles trimmed, 1-200 characters, one line, no
//!   control or bidirectional-control characters; messages likewise (line breaks and tabs
//!   allowed, every line break `\n`); known components without repeats, in the order given;
//!   windows ending after they start, not in the past, at most 31 days long.
//! - Validation is idempotent: what was accepted, sent again, is accepted unchanged.
//! - The override's message is held to the rules of every other operator message.
//! - Times (`parse_rfc3339`) are read exactly when they are RFC 3339 date-times with a real
//!   date, and read as the instant they name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statuscast::model::{civil, IncidentStatus};
use statuscast::server::clock::parse_rfc3339;
use statuscast::server::domain::operator::{
    message, validate_incident, validate_maintenance, validate_update, FieldError, IncidentInput, MaintenanceInput, UpdateInput,
    MAX_TITLE_CHARS, MAX_WINDOW_DAYS,
};
use statuscast::server::http::admin::{local_input_as_utc, Fields};
use statuscast::server::http::api::{validate_override, MAX_MESSAGE_CHARS as MAX_OVERRIDE_CHARS};
use statuscast::server::store::{NewIncident, NewMaintenance, NewUpdate};

const KNOWN: [&str; 3] = ["api", "db", "host.disk"];

fn known() -> Vec<String> {
    KNOWN.iter().map(|s| s.to_string()).collect()
}

/// 2026-11-28T10:00:00Z, the clock the maintenance windows are judged against.
const NOW_MS: i64 = 1_795_860_000_000;

fn bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn refusal(e: &FieldError, fields: &[&str]) {
    assert!(fields.contains(&e.field), "{e:?} names none of {fields:?}");
    assert!(!e.message.trim().is_empty(), "{e:?}");
    assert_eq!(e.to_string(), format!("{}: {}", e.field, e.message));
}

fn good_title(t: &str, given: &str) {
    assert_eq!(t, given.trim());
    let n = t.chars().count();
    assert!((1..=MAX_TITLE_CHARS).contains(&n), "{n} characters");
    assert!(!t.chars().any(|c| c.is_control() || bidi(c)), "{t:?}");
}

fn good_message(m: &str) {
    assert!(!m.is_empty() && m.trim() == m, "{m:?}");
    assert!(!m.contains('\r'), "every line break is \\n: {m:?}");
    assert!(!m.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t') || bidi(c)), "{m:?}");
}

fn good_components(out: &[String], given: &[String]) {
    let mut firsts: Vec<&String> = Vec::new();
    for c in given {
        if !firsts.contains(&c) {
            firsts.push(c);
        }
    }
    assert!(out.iter().eq(firsts), "{out:?} from {given:?}");
    assert!(out.iter().all(|c| KNOWN.contains(&c.as_str())));
}

fn incident(input: &IncidentInput) {
    match validate_incident(input, &known()) {
        Ok(n) => {
            good_title(&n.title, &input.title);
            assert_eq!(n.impact.as_str(), input.impact.trim());
            match input.status.as_deref().map(str::trim) {
                None | Some("") => assert_eq!(n.status, IncidentStatus::Investigating),
                Some(s) => assert_eq!(n.status.as_str(), s),
            }
            good_message(&n.message);
            good_components(&n.components, &input.components);
            let NewIncident { title, impact, components, status, message } = n.clone();
            let again = IncidentInput {
                title,
                impact: impact.as_str().into(),
                components,
                status: Some(status.as_str().into()),
                message,
            };
            assert_eq!(validate_incident(&again, &known()), Ok(n), "accepted again unchanged");
        }
        Err(e) => refusal(&e, &["title", "impact", "components", "status", "message"]),
    }
}

fn update(input: &UpdateInput) {
    match validate_update(input) {
        Ok(u) => {
            assert_eq!(u.status.as_str(), input.status.trim());
            good_message(&u.message);
            match input.impact.as_deref().map(str::trim) {
                None | Some("") => assert_eq!(u.impact, None),
                Some(i) => assert_eq!(u.impact.map(|i| i.as_str()), Some(i)),
            }
            let NewUpdate { status, message, impact } = u.clone();
            let again = UpdateInput { status: status.as_str().into(), message, impact: impact.map(|i| i.as_str().into()) };
            assert_eq!(validate_update(&again), Ok(u), "accepted again unchanged");
        }
        Err(e) => refusal(&e, &["status", "message", "impact"]),
    }
}

/// RFC 3339 with milliseconds, `Z`.
fn instant(ms: i64) -> String {
    let (y, m, d, rem) = civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms.rem_euclid(1000))
}

fn maintenance(input: &MaintenanceInput) {
    time(&input.starts_at);
    time(&input.ends_at);
    match validate_maintenance(input, &known(), NOW_MS) {
        Ok(w) => {
            good_title(&w.title, &input.title);
            assert_eq!(Some(w.starts_ms), parse_rfc3339(&input.starts_at));
            assert_eq!(Some(w.ends_ms), parse_rfc3339(&input.ends_at));
            assert!(w.starts_ms < w.ends_ms && w.ends_ms > NOW_MS);
            assert!(w.ends_ms - w.starts_ms <= MAX_WINDOW_DAYS * 86_400_000);
            assert!(!w.components.is_empty());
            good_components(&w.components, &input.components);
            let NewMaintenance { title, starts_ms, ends_ms, components } = w.clone();
            let again = MaintenanceInput { title, starts_at: instant(starts_ms), ends_at: instant(ends_ms), components };
            assert_eq!(validate_maintenance(&again, &known(), NOW_MS), Ok(w), "accepted again unchanged");
        }
        Err(e) => refusal(&e, &["title", "starts_at", "ends_at", "components"]),
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    s.iter().all(u8::is_ascii_digit).then(|| s.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

/// An RFC 3339 date-time (§5.6; a space may stand for the `T`), read independently of the
/// code: the local date and time, milliseconds, and the offset in minutes.
fn rfc3339_fields(s: &str) -> Option<((i64, i64, i64, i64, i64, i64), i64, i64)> {
    let b = s.trim().as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (h, mi, se) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[mo as usize - 1] || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut ms = 0;
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut three = rest[1..1 + n.min(3)].to_vec();
        three.resize(3, b'0');
        ms = digits(&three)?;
        rest = &rest[1 + n..];
    }
    let offset = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            (oh * 60 + om) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    Some(((y, mo, d, h, mi, se), ms, offset))
}

fn time(s: &str) {
    let got = parse_rfc3339(s);
    let Some(((y, mo, d, h, mi, se), ms, offset)) = rfc3339_fields(s) else {
        assert_eq!(got, None, "{s:?} is not an RFC 3339 date-time");
        return;
    };
    let t = got.unwrap_or_else(|| panic!("{s:?} is an RFC 3339 date-time"));
    let local = t + offset * 60_000;
    assert_eq!(local.rem_euclid(1000), ms, "{s:?}");
    // 23:59:60 (a leap second) is the next day's 00:00:00.
    let (back, second) = if se == 60 { (local - 1000, 59) } else { (local, se) };
    assert_eq!(civil(back), (y, mo, d, h * 3600 + mi * 60 + second), "{s:?} read as {t}");
}

fn form(body: &[u8]) {
    let f = Fields::parse(body);
    incident(&IncidentInput {
        title: f.one("title"),
        impact: f.one("impact"),
        components: f.all("components"),
        status: Some(f.one("status")),
        message: f.one("message"),
    });
    update(&UpdateInput { status: f.one("status"), message: f.one("message"), impact: Some(f.one("impact")) });
    maintenance(&MaintenanceInput {
        title: f.one("title"),
        starts_at: local_input_as_utc(&f.one("starts_at")),
        ends_at: local_input_as_utc(&f.one("ends_at")),
        components: f.all("components"),
    });
    let _ = f.one("id").trim().parse::<i64>();
}

fn api(body: &[u8]) {
    if let Ok(i) = serde_json::from_slice::<IncidentInput>(body) {
        incident(&i);
    }
    if let Ok(u) = serde_json::from_slice::<UpdateInput>(body) {
        update(&u);
    }
    if let Ok(m) = serde_json::from_slice::<MaintenanceInput>(body) {
        maintenance(&m);
    }
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    match validate_override(&headers, body) {
        Ok((level, m)) => {
            let raw: serde_json::Value = serde_json::from_slice(body).expect("accepted JSON");
            assert_eq!(raw["level"].as_str(), Some(level.as_str()));
            let given = raw["message"].as_str().expect("a message");
            assert_eq!(message("message", given, MAX_OVERRIDE_CHARS), Ok(m.clone()), "the override's message {given:?}");
            good_message(&m);
        }
        Err(e) => {
            assert!(!e.message.trim().is_empty());
            assert!(e.field.is_none_or(|f| ["level", "message"].contains(&f)), "{:?}", e.field);
        }
    }
}

fuzz_target!(|body: &[u8]| {
    form(body);
    api(body);
    if let Ok(s) = std::str::from_utf8(body) {
        time(s);
    }
});
