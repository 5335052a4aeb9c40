//! statuscast: a live status service. See README.md.
#![recursion_limit = "256"]

pub mod app;
pub mod status;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panic messages in the console cost ~2 KiB of bundle: debug builds only.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
