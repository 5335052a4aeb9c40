//! The kinds of check, one file each: what each measures and how a result becomes a level
//! and a reason. (Their settings in `statuscast.toml` are read and validated in
//! [`super::config`]; heartbeats are judged by the runner from the beats the API records.)

pub mod command;
pub mod host;
pub mod http;
pub mod tcp;
