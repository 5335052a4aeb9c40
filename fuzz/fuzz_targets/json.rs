//! The JSON the server and the browser share: snapshots (every SSE event's data) and the
//! status view (the page's initial state). The server reads and writes them with serde; the
//! browser parses them with `JSON.parse` and reads the result field by field (`model::decode`,
//! `Snapshot::from_json`). Here the same decoder reads what the crate's own small reader
//! (`model::json`) parsed: "the browser" below is that pair.
//!
//! - Neither reader panics on any bytes.
//! - What serde reads, written out again, reads back equal (serde and the browser alike).
//! - What the browser reads, written out by the server, reads back equal (both readers).
//! - The readers agree: JSON serde reads as a snapshot the browser reads as the same one
//!   (within the browser's limits: nesting to 32, versions to i64::MAX as the store keeps them).
//! - The browser's `Value` agrees with serde_json's on every document both accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statuscast::model::json::Value;
use statuscast::model::{Snapshot, StatusView};

/// The same document? Numbers: the browser keeps integers that fit i64 (others are "not an
/// integer"); objects: serde_json keeps a repeated key's last value, the browser's index
/// (`v["key"]`) its first, so objects with repeated keys are not compared.
fn same(ours: &Value, theirs: &serde_json::Value, text: &str) {
    match (ours, theirs) {
        (Value::Null, serde_json::Value::Null) => {}
        (Value::Bool(a), serde_json::Value::Bool(b)) => assert_eq!(a, b),
        (Value::String(a), serde_json::Value::String(b)) => assert_eq!(a, b),
        (Value::Number(a), serde_json::Value::Number(b)) => {
            if let Some(a) = a {
                assert!(b.as_i64() == Some(*a) || b.as_f64() == Some(0.0) && *a == 0, "{a} vs {b} in {text:?}");
            } else {
                assert!(!b.is_i64(), "{b} is an i64 in {text:?}");
            }
        }
        (Value::Array(a), serde_json::Value::Array(b)) => {
            assert_eq!(a.len(), b.len());
            for (a, b) in a.iter().zip(b) {
                same(a, b, text);
            }
        }
        (Value::Object(a), serde_json::Value::Object(b)) => {
            let mut keys: Vec<&String> = a.iter().map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            if keys.len() == a.len() {
                assert_eq!(a.len(), b.len());
                for (k, v) in a {
                    same(v, &b[k], text);
                }
            }
        }
        (a, b) => panic!("{a:?} vs {b} in {text:?}"),
    }
}

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// What serde reads, written out again, reads back equal; the browser reads it the same.
/// (Versions are stored as a signed 64-bit integer, so none above i64::MAX is ever served;
/// the browser reads integers up to there.)
fn round_trip<T>(v: &T, browser: fn(&str) -> Option<T>, version: u64)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(v).expect("serialises");
    assert_eq!(serde_json::from_str::<T>(&json).ok().as_ref(), Some(v), "serde reads back {json}");
    if i64::try_from(version).is_ok() {
        assert_eq!(browser(&json).as_ref(), Some(v), "the browser reads {json}");
    }
}

fuzz_target!(|bytes: &[u8]| {
    let served: Option<Snapshot> = serde_json::from_slice(bytes).ok();
    let page: Option<StatusView> = serde_json::from_slice(bytes).ok();
    if let Some(s) = &served {
        round_trip(s, Snapshot::from_json, s.version);
    }
    if let Some(p) = &page {
        round_trip(p, StatusView::from_json, p.snapshot.version);
    }

    // The browser reads text (an event's data, the page's script): bytes that are not UTF-8
    // never reach it. (serde_json may read them: it does not check the strings it skips.)
    let Ok(text) = std::str::from_utf8(bytes) else { return };

    let value = Value::parse(text);
    let mut shallow = true;
    if let Ok(theirs) = serde_json::from_str::<serde_json::Value>(text) {
        // The browser refuses nesting deeper than 32 (a snapshot nests 4 deep).
        shallow = depth(&theirs) <= 32;
        match &value {
            Some(ours) => same(ours, &theirs, text),
            None => assert!(!shallow, "serde_json reads {text:?}, the browser does not"),
        }
    }

    // The readers agree; what the browser reads, the server writes back the same.
    let browser = Snapshot::from_json(text);
    let browser_page = StatusView::from_json(text);
    if shallow && served.as_ref().is_some_and(|s| i64::try_from(s.version).is_ok()) {
        assert_eq!(browser, served, "the browser reads {text:?} as serde does");
    }
    if shallow && page.as_ref().is_some_and(|p| i64::try_from(p.snapshot.version).is_ok()) {
        assert_eq!(browser_page, page, "the browser reads {text:?} as serde does");
    }
    if let Some(b) = &browser {
        round_trip(b, Snapshot::from_json, b.version);
    }
    if let Some(b) = &browser_page {
        round_trip(b, StatusView::from_json, b.snapshot.version);
    }
});
