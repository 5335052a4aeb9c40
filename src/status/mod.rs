//! The domain model shared by the server and the browser: levels, components and the
//! versioned [`Snapshot`] that every view (SSR, SSE, JSON) shows.

mod level;
mod snapshot;

pub use level::{Level, UnknownLevel};
pub use snapshot::{age_text, ago, ComponentStatus, Override, Snapshot, StatusView};
