//! One `EventSource` on `/connect_to_sse`: it reports its state and each status event (the
//! JSON text) to whoever opened it, the tab alone or the tab leading the others.

use super::StreamState;
use leptos::prelude::*;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventSource, MessageEvent};

/// How long a reconnect may take before the viewer is told about it.
const RECONNECT_GRACE: Duration = Duration::from_millis(400);

/// What the stream tells its owner.
pub enum Heard {
    State(StreamState),
    /// A status event's data: a [`Snapshot`](crate::model::Snapshot) as JSON (not yet read).
    Status(String),
}

type Handler<E> = Closure<dyn FnMut(E)>;

/// An open `EventSource`; dropping it closes it.
pub struct Stream {
    source: EventSource,
    _handlers: (Handler<Event>, Handler<Event>, Handler<MessageEvent>),
}

impl Stream {
    /// Opens the stream, asking only for what is newer than `version`. Reports `Connecting`
    /// at once, or `Offline` (and returns `None`) if the browser would not open it.
    pub fn open(version: u64, heard: Rc<dyn Fn(Heard)>) -> Option<Stream> {
        let Ok(source) = EventSource::new(&format!("/connect_to_sse?lastEventId={version}")) else {
            heard(Heard::State(StreamState::Offline));
            return None;
        };
        heard(Heard::State(StreamState::Connecting));

        let on_open = {
            let heard = heard.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| heard(Heard::State(StreamState::Live)))
        };
        let on_error = {
            let (heard, watched) = (heard.clone(), source.clone());
            Closure::<dyn FnMut(Event)>::new(move |_| match watched.ready_state() {
                EventSource::CLOSED => heard(Heard::State(StreamState::Offline)),
                EventSource::CONNECTING => {
                    // A reconnect that succeeds at once (the server moving the stream to a
                    // connection of its own) is not worth a flicker: say so only if it lasts.
                    let (heard, source) = (heard.clone(), watched.clone());
                    set_timeout(
                        move || {
                            if source.ready_state() == EventSource::CONNECTING {
                                heard(Heard::State(StreamState::Reconnecting));
                            }
                        },
                        RECONNECT_GRACE,
                    );
                }
                _ => {}
            })
        };
        let on_status = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                heard(Heard::State(StreamState::Live));
                heard(Heard::Status(text));
            }
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let _ = source.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
        Some(Stream { source, _handlers: (on_open, on_error, on_status) })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.close();
    }
}
