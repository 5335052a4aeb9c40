//! The kinds of check, one file each: its settings as written in `statuscast.toml`
//! (`Settings`, `FIELDS`), their validation into a [`Probe`](super::config::Probe)
//! (`validate`), and what it measures (`probe`; heartbeats are judged by the runner from
//! the beats the API records).

pub mod command;
pub mod heartbeat;
pub mod host;
pub mod http;
pub mod tcp;
