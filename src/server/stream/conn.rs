//! Connections: the accept loop, and what serves each connection.
//!
//! A connection whose first request is `GET /connect_to_sse` is served here directly: the
//! request head is read into a short-lived buffer, the response head is written, and from
//! then on the connection holds only the socket and its [`SseStream`] (a few hundred bytes),
//! writing the hub's shared event bytes as HTTP/1.1 chunks. Every other connection goes to
//! hyper and the axum router (hyper keeps ~25 KiB of buffers per connection, which is fine for
//! page and API requests but not for tens of thousands of idle streams).

use crate::server::stream::admission::{Busy, Entry, Ticket};
use crate::server::stream::head::{first_request, head_end, FirstRequest, Framing, MAX_HEAD};
use crate::server::stream::listener::{GuardedListener, GuardedStream};
use crate::server::stream::sse::{Session, SseStream, RESPONSE_HEAD, RESPONSE_HEAD_UNTIL_CLOSE};
use crate::server::stream::tls::Tls;
use crate::server::AppState;
use axum::serve::Listener;
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Which request on its connection (0: the first) a request served by hyper is.
#[derive(Clone, Copy, Debug)]
pub struct RequestOnConnection(pub u64);

/// How long a new connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts until `stop` resolves, then tells the connections hyper serves to close and waits
/// (briefly) for them. SSE streams end through the hub's shutdown signal, not here.
pub async fn serve(
    mut listener: GuardedListener,
    tls: Option<Arc<Tls>>,
    app: Router,
    state: AppState,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            (io, addr) = listener.accept() => match state.connections.admit().await {
                Some(ticket) => {
                    tokio::spawn(connection(io, addr, tls.clone(), app.clone(), state.clone(), ticket));
                }
                None => {
                    tokio::spawn(refuse_busy(io));
                }
            },
            _ = &mut stop => break,
        }
    }
    drop(listener);
    state.connections.close_all(Duration::from_millis(500)).await;
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\ncontent-length: 44\r\nconnection: close\r\n\r\nevery connection is busy; retry in a second\n";

/// Over the connection pool with every connection busy: 503 at once, then close. What the
/// client sent is read (briefly) first, so the close does not reset the answer away.
async fn refuse_busy(mut io: GuardedStream) {
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        io.write_all(BUSY).await?;
        io.shutdown().await?;
        let mut sink = [0u8; 1024];
        while io.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// The peer address of the connection a request came on (a request extension).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::SocketAddr);

async fn connection(
    mut io: GuardedStream,
    addr: std::net::SocketAddr,
    tls: Option<Arc<Tls>>,
    app: Router,
    state: AppState,
    ticket: Ticket,
) {
    if let Some(tls) = tls {
        // Boxed, like every hyper path: the task of each connection is as large as its largest
        // state, and a lean stream should not carry a TLS handshake's or hyper's room.
        return Box::pin(secured(io, addr, tls, app, ticket)).await;
    }
    let mut head = Vec::with_capacity(1024);
    let read = tokio::select! {
        read = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut io, &mut head)) => read,
        _ = ticket.entry.closing() => return, // evicted while it sent nothing
    };
    let (end, complete) = match read {
        Ok(Ok(Some(end))) => (end, true),
        Ok(Ok(None)) => (head.len(), false),
        _ => return, // closed, failed or too slow before a request
    };
    // HTTP/2 with prior knowledge (h2c), as reverse proxies may speak it.
    if head.starts_with(H2_PREFACE_START) {
        let io = Prefixed { prefix: Bytes::from(head), inner: io };
        return Box::pin(serve_hyper(io, addr, Protocol::Http2, app, ticket)).await;
    }
    match first_request(&head[..end], complete) {
        FirstRequest::Stream { version, framing } => {
            // From here on a stream, limited with the streams (`--max-streams`).
            drop((head, ticket));
            let _ = match Session::open(&state, version) {
                Session::Stream(stream) => stream_events(&mut io, stream, framing).await,
                Session::Shed(body) => write_shed(&mut io, body, framing).await,
            };
            return;
        }
        FirstRequest::Refuse(response) => {
            drop(head);
            let _ = io.write_all(response).await;
            let _ = io.shutdown().await;
            return;
        }
        FirstRequest::Other => {}
    }
    let io = Prefixed { prefix: Bytes::from(head), inner: io };
    Box::pin(serve_hyper(io, addr, Protocol::Http1 { plain: true }, app, ticket)).await
}

/// HTTPS: the handshake first (bounded like a head), then HTTP/2 or HTTP/1.1 as agreed by
/// ALPN, both served by hyper: the lean path is for plain HTTP/1.1 streams.
async fn secured(io: GuardedStream, addr: std::net::SocketAddr, tls: Arc<Tls>, app: Router, ticket: Ticket) {
    let handshake = tokio::select! {
        done = tokio::time::timeout(HEAD_TIMEOUT, tls.acceptor().accept(io)) => done,
        _ = ticket.entry.closing() => return,
    };
    let Ok(Ok(secured)) = handshake else { return };
    let protocol = match secured.get_ref().1.alpn_protocol() {
        Some(b"h2") => Protocol::Http2,
        _ => Protocol::Http1 { plain: false },
    };
    serve_hyper(secured, addr, protocol, app, ticket).await
}

/// The start of an HTTP/2 connection preface (RFC 9113 §3.4): its request-like first part,
/// which is all `read_head` reads.
const H2_PREFACE_START: &[u8] = b"PRI * HTTP/2.0\r\n\r\n";

/// How hyper serves a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// HTTP/1.1; `plain` over TCP (where a stream can move to a lean connection of its own),
    /// else over TLS.
    Http1 { plain: bool },
    /// HTTP/2 (over TLS by ALPN, or h2c with prior knowledge): many requests and streams on
    /// one connection.
    Http2,
}

/// The connection ticket of a connection that can carry a stream beside other requests (TLS,
/// HTTP/2): a stream on it hands the ticket back (see `sse::connect_to_sse`), so the
/// connection is counted with the streams (`--max-streams`) from then on, and browsers that
/// keep one connection each for their streams do not fill the connection pool.
#[derive(Clone)]
pub struct SharedTicket(Arc<std::sync::Mutex<Option<Ticket>>>);

impl SharedTicket {
    /// Frees the connection's place in the pool (once; later calls do nothing).
    pub fn release(&self) {
        drop(self.0.lock().expect("not poisoned").take());
    }
}

/// Serves a connection with hyper and the router, tracking for the pool when a request is
/// in the server's hands.
async fn serve_hyper<I>(io: I, addr: std::net::SocketAddr, protocol: Protocol, app: Router, ticket: Ticket)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let entry = ticket.entry.clone();
    // Held here for the connection's life, or (TLS, HTTP/2) by its requests until a stream
    // on it releases it.
    let (shared, _ticket) = match protocol {
        Protocol::Http1 { plain: true } => (None, Some(ticket)),
        _ => (Some(SharedTicket(Arc::new(std::sync::Mutex::new(Some(ticket))))), None),
    };
    // Each request learns whether it is the connection's first (see `RequestOnConnection`).
    // It counts as in the server's hands (its connection cannot be evicted) from when its
    // body has arrived whole (at once for a request without one) until its response is sent.
    let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let service_entry = entry.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let index = served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &shared {
            // Only a plain HTTP/1.1 connection may send a stream to a connection of its own.
            None => {
                req.extensions_mut().insert(RequestOnConnection(index));
            }
            Some(shared) => {
                req.extensions_mut().insert(shared.clone());
            }
        }
        req.extensions_mut().insert(ClientAddr(addr));
        let entry = service_entry.clone();
        let busy = BusySlot::default();
        if http_body::Body::is_end_stream(req.body()) {
            busy.take(&entry);
        }
        let body_busy = busy.clone();
        let body_entry = entry.clone();
        let req = req.map(|body| axum::body::Body::new(Arriving { body, entry: body_entry, busy: body_busy }));
        let response = tower::ServiceExt::oneshot(app.clone(), req);
        async move {
            let response = response.await?;
            busy.take(&entry); // answered without reading the whole body (a 401, a 413)
            Ok::<_, std::convert::Infallible>(response.map(|body| axum::body::Body::new(InFlight { body, _busy: busy })))
        }
    });
    match protocol {
        Protocol::Http1 { .. } => {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                // Later requests' heads are bounded like the first's (hyper's default is ~400 KB).
                .max_buf_size(MAX_HEAD.max(8192))
                .serve_connection(TokioIo::new(io), service);
            // Boxed, so the hyper state is allocated only for connections that use it.
            until_closed(Box::pin(conn), &entry, |c| c.graceful_shutdown()).await;
        }
        Protocol::Http2 => {
            let conn = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                .timer(TokioTimer::new())
                .max_header_list_size(MAX_HEAD as u32)
                // A peer that vanished (no FIN) is noticed within a minute, streams or not.
                .keep_alive_interval(Some(Duration::from_secs(30)))
                .keep_alive_timeout(Duration::from_secs(20))
                .serve_connection(TokioIo::new(io), service);
            until_closed(Box::pin(conn), &entry, |c| c.graceful_shutdown()).await;
        }
    }
}

/// Runs a hyper connection until it ends or its pool entry is told to close: evicted while
/// waiting on its client (for a head or a body), it is closed now; else (stopping, or a
/// request just arrived whole) `shutdown` lets it close after its responses.
async fn until_closed<C: std::future::Future>(mut conn: Pin<Box<C>>, entry: &Entry, shutdown: impl FnOnce(Pin<&mut C>)) {
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = entry.closing() => {
            if entry.evicted() && !entry.is_busy() {
                return;
            }
            shutdown(conn.as_mut());
        }
    }
    let _ = conn.await;
}

/// A request's hold on its connection (see `Entry::busy`), taken once: when its body has
/// arrived, or when it is answered, whichever is first; released with the response.
#[derive(Clone, Default)]
struct BusySlot(std::sync::Arc<std::sync::Mutex<Option<Busy>>>);

impl BusySlot {
    fn take(&self, entry: &std::sync::Arc<Entry>) {
        let mut slot = self.0.lock().unwrap();
        if slot.is_none() {
            *slot = Some(entry.busy());
        }
    }
}

/// A request body on its way in: the request is taken into the server's hands when it ends.
struct Arriving {
    body: hyper::body::Incoming,
    entry: std::sync::Arc<Entry>,
    busy: BusySlot,
}

impl http_body::Body for Arriving {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.body.is_end_stream() {
            self.busy.take(&self.entry);
        }
        polled
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A response body that keeps its request in the server's hands until it is sent.
struct InFlight {
    body: axum::body::Body,
    _busy: BusySlot,
}

impl http_body::Body for InFlight {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Reads until the end of the request head. Returns its length (with the empty line), or
/// None if it did not end within `MAX_HEAD` bytes.
async fn read_head(io: &mut GuardedStream, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
    loop {
        if let Some(end) = head_end(buf) {
            return Ok(Some(end));
        }
        if buf.len() >= MAX_HEAD {
            return Ok(None);
        }
        if buf.capacity() - buf.len() < 512 {
            buf.reserve(1024);
        }
        let n = io.read_buf(buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Streams until the hub ends the stream (shutdown) or the client goes away. The socket is
/// watched for reads too, so a client that closes is noticed at once, not at the next write.
async fn stream_events(io: &mut GuardedStream, mut stream: SseStream, framing: Framing) -> io::Result<()> {
    io.write_all(response_head(framing)).await?;
    loop {
        tokio::select! {
            item = stream.next() => match item {
                Some(Ok(bytes)) => write_body(io, &bytes, framing).await?,
                _ => break,
            },
            ready = io.readable() => {
                ready?;
                let mut scratch = [0u8; 256];
                match io.try_read(&mut scratch) {
                    Ok(0) => return Ok(()), // the client closed
                    Ok(_) => {}             // anything it sends after the request is ignored
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    end_body(io, framing).await
}

async fn write_shed(io: &mut GuardedStream, body: Bytes, framing: Framing) -> io::Result<()> {
    io.write_all(response_head(framing)).await?;
    write_body(io, &body, framing).await?;
    end_body(io, framing).await
}

fn response_head(framing: Framing) -> &'static [u8] {
    match framing {
        Framing::Chunked => RESPONSE_HEAD,
        Framing::UntilClose => RESPONSE_HEAD_UNTIL_CLOSE,
    }
}

async fn write_body(io: &mut GuardedStream, data: &[u8], framing: Framing) -> io::Result<()> {
    match framing {
        Framing::Chunked => write_chunk(io, data).await,
        Framing::UntilClose => io.write_all(data).await,
    }
}

/// `{len:x}\r\n` into `buf`; returns the used part.
fn chunk_size_line(len: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len() - 2;
    buf[i..].copy_from_slice(b"\r\n");
    let mut n = len;
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// One HTTP/1.1 chunk, in one vectored write where the socket takes it. Nothing is
/// allocated: this runs for every event on every stream.
async fn write_chunk(io: &mut GuardedStream, data: &[u8]) -> io::Result<()> {
    let mut size_buf = [0u8; 20];
    let size = chunk_size_line(data.len(), &mut size_buf);
    let parts: [&[u8]; 3] = [size, data, b"\r\n"];
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut written = 0;
    while written < total {
        let mut slices = [IoSlice::new(&[]), IoSlice::new(&[]), IoSlice::new(&[])];
        let mut count = 0;
        let mut skip = written;
        for p in parts {
            if skip >= p.len() {
                skip -= p.len();
            } else {
                slices[count] = IoSlice::new(&p[skip..]);
                count += 1;
                skip = 0;
            }
        }
        let n = io.write_vectored(&slices[..count]).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        written += n;
    }
    Ok(())
}

/// The last chunk (if chunked), then close the connection.
async fn end_body(io: &mut GuardedStream, framing: Framing) -> io::Result<()> {
    if framing == Framing::Chunked {
        io.write_all(b"0\r\n\r\n").await?;
    }
    io.shutdown().await
}

/// The connection with the bytes already read in front, for hyper.
struct Prefixed<I> {
    prefix: Bytes,
    inner: I,
}

impl<I: AsyncRead + Unpin> AsyncRead for Prefixed<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Prefixed<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_lines_are_lowercase_hex() {
        let mut buf = [0u8; 20];
        for (len, want) in [(0, "0\r\n"), (9, "9\r\n"), (255, "ff\r\n"), (4096, "1000\r\n"), (0xabcdef, "abcdef\r\n")] {
            assert_eq!(std::str::from_utf8(chunk_size_line(len, &mut buf)).unwrap(), want);
            assert_eq!(format!("{len:x}\r\n"), want);
        }
    }
}
