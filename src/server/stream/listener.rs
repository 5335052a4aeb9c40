//! The TCP listener: sets `TCP_NODELAY` (events are small and must not wait for Nagle),
//! bounds each socket's send buffer, and drops a connection whose peer accepts no bytes at
//! all for the stall timeout.
//!
//! A stream never queues more than one event in the process (the hub is latest-value), so
//! a stalled reader's unsent data is bounded by that event plus the socket's send buffer;
//! once that is full and stays full for the stall timeout, the connection is closed and
//! everything the stream held is freed.
//!
//! Should the process ever run out of descriptors anyway (the reserve used up by checks),
//! accepting does not stall: one spare descriptor is kept open, and when `accept` fails for
//! want of descriptors it is released, the waiting connection accepted and closed at once
//! (the client sees a refusal, not a hang), and the spare taken again.

use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// Binds the listening socket (non-blocking, for tokio); with `reuse_port`, SO_REUSEPORT,
/// so that several processes can listen on the same port.
pub fn bind(addr: std::net::SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?; // tokio's own bind uses the same backlog
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

pub struct GuardedListener {
    inner: TcpListener,
    stall_timeout: Duration,
    send_buffer: usize,
    spare: Option<std::fs::File>,
    /// Connections refused for want of descriptors since the last warning (one a second).
    refused: u64,
    warned: Option<Instant>,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, stall_timeout: Duration, send_buffer: usize) -> Self {
        GuardedListener { inner, stall_timeout, send_buffer, spare: spare_descriptor(), refused: 0, warned: None }
    }

    async fn accept_one(&mut self) -> (TcpStream, std::net::SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok(accepted) => return accepted,
                Err(e) if out_of_descriptors(&e) => {
                    self.spare = None;
                    if let Ok((refused, _)) = self.inner.accept().await {
                        drop(refused);
                        self.refused += 1;
                    }
                    if self.warned.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(
                            "out of file descriptors: {} connections refused (see --max-streams, --max-connections)",
                            self.refused
                        );
                        (self.refused, self.warned) = (0, Some(Instant::now()));
                    }
                    self.spare = spare_descriptor();
                    if self.spare.is_none() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                // The peer gave up before it was accepted: nothing to do.
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) => {}
                Err(e) => {
                    tracing::error!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

fn spare_descriptor() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == rustix::io::Errno::MFILE.raw_os_error() || code == rustix::io::Errno::NFILE.raw_os_error())
}

impl Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = self.accept_one().await;
        let _ = stream.set_nodelay(true);
        if self.send_buffer > 0 {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(self.send_buffer);
        }
        (GuardedStream { inner: stream, stall_timeout: self.stall_timeout, stalled: None }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

pub struct GuardedStream {
    inner: TcpStream,
    stall_timeout: Duration,
    /// Armed when a write could not make progress; cleared by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl GuardedStream {
    /// Waits until the socket has something to read (data, or the peer's close).
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.try_read(buf)
    }

    fn on_write<T>(&mut self, cx: &mut Context<'_>, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.stall_timeout;
                let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + timeout)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "peer accepted no data within the stall timeout",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.on_write(cx, r)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.on_write(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
