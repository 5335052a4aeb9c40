//! The request head of a new connection, as the lean path reads it: where it ends, and
//! whether it asks for a stream (and how the stream must be framed) or for something hyper
//! serves. Pure functions of the bytes, so the fuzz target `head` can drive them.
//!
//! Every way of asking for `/connect_to_sse` that a client may legitimately use is a stream
//! here (HTTP/1.0, an absolute-form target, `Upgrade` or `Expect: 100-continue` headers, bare
//! `\n` line endings), so none of them costs a hyper connection for the stream's life; a head
//! too long for the lean path is refused for every request, not handed on.

/// Longest request head read, for every connection's first request.
pub const MAX_HEAD: usize = 16 * 1024;

/// How a stream's body is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// HTTP/1.1: chunked transfer coding.
    Chunked,
    /// HTTP/1.0 (no chunked coding): the bytes as they are, the end marked by closing.
    UntilClose,
}

/// What the first request on a connection is.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstRequest {
    /// A stream request: the version the client says it has, and the framing to use.
    Stream { version: Option<u64>, framing: Framing },
    /// Refused on the lean path with this whole response (the connection is then closed).
    Refuse(&'static [u8]),
    /// Anything else: hyper and the router serve it.
    Other,
}

pub const TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 37\r\nconnection: close\r\n\r\nrequest head over 16 KiB: not served\n";
pub const EXPECTATION_FAILED: &[u8] = b"HTTP/1.1 417 Expectation Failed\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 50\r\nconnection: close\r\n\r\na stream request expects nothing but 100-continue\n";

/// The length of the head (through its empty line) if `buf` holds a whole one. Lines may
/// end in `\r\n` or a bare `\n` (RFC 9112 §2.2 lets a server accept both, and httparse does).
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = buf[from..].iter().position(|&b| b == b'\n') {
        let at = from + i + 1;
        match &buf[at..] {
            [b'\n', ..] => return Some(at + 1),
            [b'\r', b'\n', ..] => return Some(at + 2),
            _ => from = at,
        }
    }
    None
}

/// Classifies a whole head (`head_end` found its end) or, with `complete` false, a head that
/// did not end within [`MAX_HEAD`].
pub fn first_request(head: &[u8], complete: bool) -> FirstRequest {
    if !complete {
        return FirstRequest::Refuse(TOO_LARGE);
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(req.parse(head), Ok(httparse::Status::Complete(_))) {
        return FirstRequest::Other; // hyper answers 400 (or 431 for too many headers)
    }
    let (Some("GET"), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return FirstRequest::Other;
    };
    let (path, query) = match origin_form(target).split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (origin_form(target), None),
    };
    if path != "/connect_to_sse" {
        return FirstRequest::Other;
    }
    let mut last_event_id = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("expect") && !h.value.eq_ignore_ascii_case(b"100-continue") {
            return FirstRequest::Refuse(EXPECTATION_FAILED);
        }
        // `Upgrade` is ignored (a server may decline to switch), and so is
        // `Expect: 100-continue`: a GET has no body to wait for.
        if h.name.eq_ignore_ascii_case("last-event-id") {
            last_event_id = std::str::from_utf8(h.value).ok();
        }
    }
    let query_id = query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lastEventId=")));
    let framing = if minor == 0 { Framing::UntilClose } else { Framing::Chunked };
    FirstRequest::Stream { version: super::sse::client_version(last_event_id, query_id), framing }
}

/// The path and query of a request target: `http://host/p?q` (absolute form, which proxies
/// send and servers must accept) as `/p?q`; an origin-form target as it is.
fn origin_form(target: &str) -> &str {
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| target.get(..scheme.len()).filter(|s| s.eq_ignore_ascii_case(scheme)).map(|s| &target[s.len()..]));
    match rest {
        Some(rest) => rest.find(['/', '?']).map_or("/", |i| &rest[i..]),
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(s: &str) -> FirstRequest {
        let end = head_end(s.as_bytes()).expect("a whole head");
        first_request(&s.as_bytes()[..end], true)
    }

    fn stream(version: Option<u64>) -> FirstRequest {
        FirstRequest::Stream { version, framing: Framing::Chunked }
    }

    #[test]
    fn heads_end_at_their_empty_line_with_either_line_ending() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: x\n\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: x\r\n\r\n"), Some(26));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r"), None);
        assert_eq!(head_end(b""), None);
    }

    #[test]
    fn recognises_stream_requests_and_their_version() {
        assert_eq!(classify("GET /connect_to_sse HTTP/1.1\r\nHost: x\r\n\r\n"), stream(None));
        assert_eq!(classify("GET /connect_to_sse?lastEventId=9 HTTP/1.1\r\nHost: x\r\n\r\n"), stream(Some(9)));
        assert_eq!(classify("GET /connect_to_sse?lastEventId=9 HTTP/1.1\r\nLast-Event-ID: 12\r\n\r\n"), stream(Some(12)));
        assert_eq!(classify("GET /connect_to_sse HTTP/1.1\r\nlast-event-id: junk\r\n\r\n"), stream(None));
        assert_eq!(classify("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), FirstRequest::Other);
        assert_eq!(classify("GET /connect_to_sse_x HTTP/1.1\r\n\r\n"), FirstRequest::Other);
        assert_eq!(classify("POST /connect_to_sse HTTP/1.1\r\n\r\n"), FirstRequest::Other);
        assert_eq!(classify("garbage\r\n\r\n"), FirstRequest::Other);
    }

    #[test]
    fn every_legitimate_way_of_asking_for_a_stream_is_a_stream() {
        assert_eq!(
            classify("GET /connect_to_sse HTTP/1.0\r\n\r\n"),
            FirstRequest::Stream { version: None, framing: Framing::UntilClose }
        );
        assert_eq!(classify("GET http://status.example/connect_to_sse?lastEventId=3 HTTP/1.1\r\n\r\n"), stream(Some(3)));
        assert_eq!(classify("GET HTTPS://status.example:8443/connect_to_sse HTTP/1.1\r\n\r\n"), stream(None));
        assert_eq!(classify("GET http://status.example HTTP/1.1\r\n\r\n"), FirstRequest::Other);
        assert_eq!(classify("GET /connect_to_sse HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"), stream(None));
        assert_eq!(classify("GET /connect_to_sse HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"), stream(None));
        assert_eq!(classify("GET /connect_to_sse HTTP/1.1\nHost: x\nLast-Event-ID: 4\n\n"), stream(Some(4)));
    }

    #[test]
    fn what_cannot_be_served_is_refused_on_the_lean_path() {
        assert_eq!(
            classify("GET /connect_to_sse HTTP/1.1\r\nExpect: something\r\n\r\n"),
            FirstRequest::Refuse(EXPECTATION_FAILED)
        );
        assert_eq!(first_request(b"GET / HTTP/1.1\r\nCookie: aaaa", false), FirstRequest::Refuse(TOO_LARGE));
        for response in [TOO_LARGE, EXPECTATION_FAILED] {
            let text = std::str::from_utf8(response).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length: ")).unwrap().parse().unwrap();
            assert_eq!(length, body.len(), "{head}");
        }
    }
}
