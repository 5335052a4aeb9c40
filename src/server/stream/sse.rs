//! `/connect_to_sse`: the Server-Sent Events endpoint (WHATWG HTML §9.2).
//!
//! - `200`, `text/event-stream`, `Cache-Control: no-cache`, `X-Accel-Buffering: no`.
//! - Each snapshot is one `status` event whose `id:` is the snapshot version.
//! - A jittered `retry:` per client spreads reconnects after a restart.
//! - `Last-Event-ID` (header, or `lastEventId` query for the first connect) equal to the
//!   current version means the client is current: nothing is resent.
//! - One shared ticker sends a `:` comment line to every stream as a heartbeat.
//! - On shutdown every stream ends at once.

use super::event::retry_field;
use super::hub::{Control, Published, StreamGuard};
use crate::server::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio_stream::wrappers::WatchStream;

static HEARTBEAT: Bytes = Bytes::from_static(b":\n\n");

#[derive(Deserialize)]
pub struct ConnectQuery {
    /// For the first connection, where a browser cannot set `Last-Event-ID`.
    #[serde(rename = "lastEventId")]
    last_event_id: Option<String>,
}

/// The version a client says it has, from `Last-Event-ID` (preferred: browsers send it on
/// every reconnect) or the `lastEventId` query. Anything that is not a number counts as none.
pub fn client_version(header: Option<&str>, query: Option<&str>) -> Option<u64> {
    header.or(query).and_then(|v| v.trim().parse::<u64>().ok())
}

/// What a new stream starts with: either a stream to serve, or (shutting down, or at the
/// stream limit) a body that tells the browser to retry later and ends.
pub enum Session {
    Stream(SseStream),
    Shed(Bytes),
}

impl Session {
    pub fn open(state: &AppState, client_version: Option<u64>) -> Session {
        let settings = &state.settings;
        let hub = &state.hub;
        // Shed load (or refuse during shutdown) the way browsers understand: 200 with a
        // longer retry, then close. Any other status would make them stop reconnecting.
        if hub.is_shut_down() || hub.open_streams() >= settings.max_streams {
            let retry = retry_field(settings.sse_retry_ms.saturating_mul(5), settings.sse_retry_jitter_ms.saturating_mul(5));
            return Session::Shed(Bytes::from(retry));
        }
        let retry = retry_field(settings.sse_retry_ms, settings.sse_retry_jitter_ms);
        let mut latest = hub.subscribe();
        let current = latest.borrow_and_update().clone();
        let first = if client_version == Some(current.version()) {
            Bytes::from(retry)
        } else {
            let mut buf = Vec::with_capacity(retry.len() + current.event.len());
            buf.extend_from_slice(retry.as_bytes());
            buf.extend_from_slice(&current.event);
            Bytes::from(buf)
        };
        Session::Stream(SseStream {
            first: Some(first),
            last_sent: current.version(),
            latest: WatchStream::from_changes(latest),
            control: WatchStream::from_changes(hub.control()),
            _open: hub.stream_guard(),
        })
    }
}

/// The response head of a stream, for connections served without hyper (see `conn`), with
/// the security headers every response carries (see `http::headers`).
pub const RESPONSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nx-accel-buffering: no\r\naccess-control-allow-origin: *\r\nx-content-type-options: nosniff\r\nreferrer-policy: strict-origin-when-cross-origin\r\ncontent-security-policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'\r\ntransfer-encoding: chunked\r\n\r\n";
/// The same for an HTTP/1.0 client, which knows no chunked coding: the body ends at the close.
pub const RESPONSE_HEAD_UNTIL_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nx-accel-buffering: no\r\naccess-control-allow-origin: *\r\nx-content-type-options: nosniff\r\nreferrer-policy: strict-origin-when-cross-origin\r\ncontent-security-policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'\r\nconnection: close\r\n\r\n";

/// The axum route, for a stream requested on a connection that hyper serves: every stream
/// over HTTPS or HTTP/2 (served in place, beside the connection's other requests), and on
/// plain HTTP/1.1 a browser reusing a keep-alive connection it fetched the page with. Such a connection
/// carries hyper's buffers (~25 KiB) for as long as the stream lasts, so by default the
/// client is told to reconnect at once, and the connection is closed: the browser's next
/// attempt comes on a connection of its own, which `conn` serves with a few hundred bytes.
pub async fn connect_to_sse(
    State(state): State<AppState>,
    Query(query): Query<ConnectQuery>,
    on_connection: Option<axum::Extension<crate::server::stream::conn::RequestOnConnection>>,
    shared: Option<axum::Extension<crate::server::stream::conn::SharedTicket>>,
    headers: HeaderMap,
) -> Response {
    // Only a connection that already carried requests is worth leaving: the first request of
    // a connection gets here only when it is not a plain stream request (HTTP/1.0, say), and
    // sending it away would loop.
    let reused = on_connection.is_some_and(|e| e.0 .0 > 0);
    if state.settings.sse_own_connection && reused {
        let mut res = event_stream_response(Body::from(retry_field(10, 40)));
        res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let header = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    match Session::open(&state, client_version(header, query.last_event_id.as_deref())) {
        Session::Stream(stream) => {
            // On a connection of HTTPS or HTTP/2, counted with the streams from now on.
            if let Some(shared) = shared {
                shared.release();
            }
            event_stream_response(Body::from_stream(stream))
        }
        Session::Shed(body) => event_stream_response(Body::from(body)),
    }
}

fn event_stream_response(body: Body) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    // Readable from any origin (the embed widget): a stream carries only the public status.
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// One client's stream. Holds no timer and no task of its own: it wakes on the hub's
/// latest-value channel and on the shared control channel (heartbeat, shutdown).
pub struct SseStream {
    first: Option<Bytes>,
    last_sent: u64,
    latest: WatchStream<Arc<Published>>,
    control: WatchStream<Control>,
    _open: StreamGuard,
}

impl Stream for SseStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        let mut beat = false;
        match Pin::new(&mut self.control).poll_next(cx) {
            Poll::Ready(Some(Control::Shutdown)) | Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Control::Beat(_))) => beat = true,
            Poll::Pending => {}
        }
        loop {
            match Pin::new(&mut self.latest).poll_next(cx) {
                Poll::Ready(Some(p)) if p.version() > self.last_sent => {
                    self.last_sent = p.version();
                    // A status event also proves the stream alive: no heartbeat needed.
                    return Poll::Ready(Some(Ok(p.event.clone())));
                }
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => break,
            }
        }
        if beat {
            return Poll::Ready(Some(Ok(HEARTBEAT.clone())));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_version_prefers_the_header_and_ignores_garbage() {
        assert_eq!(client_version(None, None), None);
        assert_eq!(client_version(None, Some("12")), Some(12));
        assert_eq!(client_version(Some("15"), Some("12")), Some(15));
        assert_eq!(client_version(Some("abc"), None), None);
        assert_eq!(client_version(Some("abc"), Some("12")), None);
        assert_eq!(client_version(Some("-3"), None), None);
        assert_eq!(client_version(Some(" 7 "), None), Some(7));
    }
}
