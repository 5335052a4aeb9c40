//! The domain model shared by the server and the browser: levels, components, incidents,
//! maintenance and the versioned [`Snapshot`] that every view (SSR, SSE, JSON) shows.

#[cfg(any(feature = "hydrate", feature = "browser-json", test))]
mod decode;
mod incident;
#[cfg(any(feature = "browser-json", test))]
pub mod json;
mod level;
mod snapshot;
mod text;

pub use incident::{Impact, Incident, IncidentStatus, IncidentUpdate, MaintenanceWindow, UnknownName};
pub use level::{Level, UnknownLevel};
pub use snapshot::{age_text, ago, component_name, component_names, until, ComponentStatus, Override, Snapshot, StatusView};
pub use text::{civil, duration_text, utc_minute};
