//! The lean path's request-head reader (`server::stream::head`).
//!
//! - `head_end` is the end of the first empty line, found the slow obvious way: the
//!   shortest prefix ending in `\n\n` or `\n\r\n` (so no earlier end exists), never past
//!   the buffer; `None` exactly when no prefix ends so.
//! - `first_request` never panics, on the head or on any prefix, complete or not.
//! - A `Stream` is really a stream request, checked here without the code under test: the
//!   head parses whole (httparse, ending where `head_end` says), the method is `GET`, the
//!   target's path is `/connect_to_sse` (origin or absolute form), the framing follows the
//!   version, and the version is one the client sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statuscast::server::stream::head::{first_request, head_end, FirstRequest, Framing, EXPECTATION_FAILED, TOO_LARGE};

fn reference_end(buf: &[u8]) -> Option<usize> {
    (1..=buf.len()).find(|&n| buf[..n].ends_with(b"\n\n") || buf[..n].ends_with(b"\n\r\n"))
}

/// The path of a request target, read independently: `/p?q` or `scheme://authority/p?q`.
fn target_path(target: &str) -> &str {
    let lower = target.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &target[7..]
    } else if lower.starts_with("https://") {
        &target[8..]
    } else {
        return target.split('?').next().unwrap_or("");
    };
    let path_and_query = match rest.find(['/', '?']) {
        Some(i) => &rest[i..],
        None => "",
    };
    path_and_query.split('?').next().unwrap_or("")
}

fn check_stream(head: &[u8], version: Option<u64>, framing: Framing) {
    let mut headers = vec![httparse::EMPTY_HEADER; 256];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(head);
    // The lean path classifies exactly the head (through its empty line); on a longer buffer
    // the head is a prefix of it.
    let whole = head_end(head) == Some(head.len());
    assert!(
        matches!(parsed, Ok(httparse::Status::Complete(n)) if n == head.len() || !whole && n < head.len()),
        "a stream's head parses (whole: {whole}): {parsed:?}"
    );
    assert_eq!(req.method, Some("GET"), "a stream is asked for with GET");
    let target = req.path.expect("a parsed request has a target");
    assert_eq!(target_path(target), "/connect_to_sse", "target {target:?}");
    let minor = req.version.expect("a parsed request has a version");
    assert_eq!(framing, if minor == 0 { Framing::UntilClose } else { Framing::Chunked }, "HTTP/1.{minor}");
    for h in req.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("expect")) {
        assert!(h.value.eq_ignore_ascii_case(b"100-continue"), "a stream with Expect: {:?}", h.value);
    }
    if let Some(v) = version {
        let sent_in_header = req
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("last-event-id"))
            .any(|h| std::str::from_utf8(h.value).ok().and_then(|s| s.trim().parse::<u64>().ok()) == Some(v));
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let sent_in_query =
            query.split('&').any(|kv| kv.strip_prefix("lastEventId=").and_then(|s| s.trim().parse().ok()) == Some(v));
        assert!(sent_in_header || sent_in_query, "version {v} was not sent");
    }
}

fn classify(head: &[u8], complete: bool) {
    match first_request(head, complete) {
        FirstRequest::Stream { version, framing } => {
            assert!(complete, "an incomplete head is never a stream");
            check_stream(head, version, framing);
        }
        FirstRequest::Refuse(r) => assert!(r == TOO_LARGE || r == EXPECTATION_FAILED),
        FirstRequest::Other => {}
    }
    if !complete {
        assert_eq!(first_request(head, false), FirstRequest::Refuse(TOO_LARGE));
    }
}

fuzz_target!(|buf: &[u8]| {
    let end = head_end(buf);
    assert_eq!(end, reference_end(buf), "head_end");
    if let Some(end) = end {
        assert!(end <= buf.len());
        classify(&buf[..end], true);
    }
    classify(buf, true);
    classify(buf, false);
    // Every prefix (short inputs: longer ones are other inputs' prefixes soon enough).
    if buf.len() <= 128 {
        for n in 0..buf.len() {
            classify(&buf[..n], true);
        }
    }
});
