//! Health checks configured in `statuscast.toml`: what to probe, how often, and how results
//! become component levels (see `config`, `probe`, `damping`, `runner`), and their history
//! (`history`).

pub mod cert;
pub mod config;
pub mod damping;
pub mod history;
pub mod kinds;
pub mod probe;
pub mod redact;
pub mod reload;
pub mod runner;
