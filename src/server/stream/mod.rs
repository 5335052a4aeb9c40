//! Streams: from the hub's latest snapshot to every open `/connect_to_sse` connection.
//!
//! - [`event`]: the SSE wire format (an event's fields, `retry:`), encoded once per snapshot.
//! - [`hub`]: the latest published snapshot, fanned out (a latest-value channel).
//! - [`sse`]: one client's stream ([`sse::SseStream`]) and the axum route for a stream asked
//!   for on a connection hyper already serves.
//! - [`admission`]: how descriptors are shared between streams, other connections and the
//!   process (an idle connection makes way for one that sends a request).
//! - [`conn`]: every accepted connection; one whose first request is `GET /connect_to_sse`
//!   is served without hyper (the lean path), the rest go to the axum router (HTTP/1.1, or
//!   HTTP/2 over TLS and h2c).
//! - [`head`]: the lean path's reading of a first request head (stream or not, framing).
//! - [`listener`]: the TCP listener with per-socket limits (send buffer, stall timeout).
//! - [`tls`]: HTTPS (`--tls-cert`, `--tls-key`), reloaded on SIGHUP; `conn` serves HTTP/2 or
//!   HTTP/1.1 over it, and HTTP/2 with prior knowledge (h2c) on plain connections.

pub mod admission;
pub mod conn;
pub mod event;
pub mod head;
pub mod hub;
pub mod listener;
pub mod sse;
pub mod tls;
