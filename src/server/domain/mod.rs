//! The status engine and what operators do to it.
//!
//! - [`engine`]: merges the sources' reports into one versioned snapshot and publishes it.
//! - [`overall`]: the overall level and message, by the documented precedence.
//! - [`maintenance`]: which components a maintenance window puts under maintenance, when.
//! - [`operator`]: operator actions (incidents, updates, maintenance), validated once for
//!   the JSON API and the admin area.

pub mod engine;
pub mod maintenance;
pub mod operator;
pub mod overall;
