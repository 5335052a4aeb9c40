//! statuscast: a live status service. See README.md, and ARCHITECTURE.md for where each
//! step of the data path lives.
#![recursion_limit = "256"]

/// The domain model shared by the server and the browser.
pub mod model;
/// Pages, the layout and the islands (never imports server code).
pub mod ui;

/// The command line (`serve`, `check-config`) and the operator client.
#[cfg(feature = "ssr")]
pub mod cli;
/// Everything that runs only on the server.
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panic messages in the console cost ~2 KiB of bundle: debug builds only.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
