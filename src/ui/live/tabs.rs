//! One stream per browser, shared by its tabs (browsers allow 6 HTTP/1.1 connections per
//! origin: a stream per tab would leave a seventh tab unable to load).
//!
//! The tabs of one origin elect a leader with the Web Locks API: every tab asks for the same
//! lock, the browser grants it to one at a time, and that tab holds it until it goes. The
//! leader opens the [`Stream`] and passes on, over a `BroadcastChannel`, every stream state
//! and every status event; the others (followers) show them. When the leader goes, the
//! browser grants the lock to a follower, which opens the stream from the newest version it
//! has (the server resends only what is newer).
//!
//! Web Locks exist only in secure contexts (HTTPS, or localhost): over plain HTTP the tabs
//! elect over the channel itself. A tab without a leader *stands* (`stand:<id>`) and leads
//! unless, within [`STAND_MS`], a leader answers or a tab with a lower id stands too; a leader
//! that hears of another leader with a lower id steps down; a leading tab that goes says
//! `leave`, and one that vanishes without a word is found out by the followers' `ping`. Ids
//! are the tab's start time (plus a random part), so the oldest tab wins. Without
//! `BroadcastChannel` a tab follows alone.
//!
//! The channel's messages, all strings:
//! - `hello:<version>`: a new tab asks for the state, and the newest status if newer;
//! - `ping`: a follower that has heard nothing for a while asks for the state;
//! - `state:<StreamState::as_str>`: the leader's stream state, on each change and as answers;
//! - `status:<Snapshot as JSON>`: a status event, as the leader's stream delivered it;
//! - `view:<StatusView as JSON>`: the status a page was rendered with (the newest a leader may
//!   have, when its stream has had nothing newer to send);
//! - without Web Locks only: `stand:<id>`, `lead:<id>` (a tab leads, said when it starts to and
//!   to every tab that stands) and `leave` (the leading tab goes).

use super::stream::{Heard, Stream};
use super::{LiveStatus, StreamState};
use crate::model::{Snapshot, StatusView};
use js_sys::{Function, Promise, Reflect};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

/// The lock the leader holds, and the channel the tabs share.
const NAME: &str = "statuscast-stream";
/// A follower that has heard nothing from the leader for this long asks it for its state...
const QUIET_MS: f64 = 10_000.0;
/// ...and if no answer comes within this, stops claiming to be live (and, without Web Locks,
/// stands to lead).
const ANSWER_MS: f64 = 3_000.0;
/// Without Web Locks: how long a tab that stands waits for a leader's or a lower id's word.
const STAND_MS: u64 = 250;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`, declared here: web-sys has it only with `web_sys_unstable_apis`.
    type LockManager;
    /// Asks for the lock `name`; `granted(lock)` runs once this tab has it, and the tab holds
    /// it until the Promise `granted` returns settles, or the tab goes.
    #[wasm_bindgen(method, catch)]
    fn request(this: &LockManager, name: &str, granted: &Function) -> Result<Promise, JsValue>;
}

fn lock_manager() -> Option<LockManager> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    locks.is_object().then(|| locks.unchecked_into())
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn state_named(name: &str) -> Option<StreamState> {
    use StreamState::*;
    [Connecting, Live, Reconnecting, Offline].into_iter().find(|s| s.as_str() == name)
}

/// This tab's part.
struct Tab {
    live: LiveStatus,
    /// `None` when the tab follows the stream alone.
    channel: Option<BroadcastChannel>,
    /// Holds the lock (or follows alone): has the stream.
    leader: bool,
    stream: Option<Stream>,
    /// The newest status shown, as a message (`status:…` or `view:…`), for a leader to pass on.
    latest: String,
    /// When a follower last heard from the leader, and when it asked since.
    heard_ms: f64,
    ping_ms: Option<f64>,
    /// Calling it gives the lock up.
    release: Option<Function>,
    /// Without Web Locks: this tab's id in the election over the channel, and the round of
    /// the election it stands in (if it stands).
    id: Option<u64>,
    standing: Option<u32>,
    rounds: u32,
    gone: bool,
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

type Shared = Rc<RefCell<Tab>>;

impl Tab {
    fn post(&self, message: &str) {
        if let Some(channel) = &self.channel {
            let _ = channel.post_message(&JsValue::from_str(message));
        }
    }

    /// Without Web Locks: `stand:<id>` or `lead:<id>` with this tab's id.
    fn post_with_id(&self, kind: &str) {
        if let Some(id) = self.id {
            self.post(&format!("{kind}:{id}"));
        }
    }

    fn post_state(&self) {
        self.post(&format!("state:{}", self.live.stream.get_untracked().as_str()));
    }

    /// Shows a `status:` or `view:` message's snapshot if it is newer than what is shown.
    fn apply(&mut self, message: &str) {
        let snapshot = match message.split_once(':') {
            Some(("status", json)) => Snapshot::from_json(json),
            Some(("view", json)) => StatusView::from_json(json).map(|v| v.snapshot),
            _ => None,
        };
        match snapshot {
            Some(snapshot) => {
                if self.live.accept(snapshot) {
                    self.latest = message.to_string();
                }
            }
            None => leptos::logging::warn!("statuscast: ignoring a malformed status event"),
        }
    }
}

/// Follows the stream in this tab: through the tabs' leader, or alone. `page_json` is the
/// status the page was rendered with (a [`StatusView`] as JSON).
pub fn follow(live: LiveStatus, server_now_ms: i64, page_json: &str) {
    // "updated N s ago" runs on the server's clock, whatever the browser's says.
    let offset = server_now_ms - now_ms() as i64;
    let tab = Rc::new(RefCell::new(Tab {
        live,
        channel: None,
        leader: false,
        stream: None,
        latest: format!("view:{page_json}"),
        heard_ms: now_ms(),
        ping_ms: None,
        release: None,
        id: None,
        standing: None,
        rounds: 0,
        gone: false,
        handlers: Vec::new(),
    }));
    let clock = {
        let tab = tab.clone();
        let tick = move || {
            live.now_ms.set(now_ms() as i64 + offset);
            watch(&tab);
        };
        set_interval_with_handle(tick, Duration::from_secs(1)).ok()
    };
    if !share(&tab) {
        lead(&tab);
    }

    let held = SendWrapper::new(tab);
    on_cleanup(move || {
        let tab = held.take();
        let mut tab = tab.borrow_mut();
        tab.gone = true;
        tab.stream = None;
        if let Some(channel) = tab.channel.take() {
            channel.set_onmessage(None);
            channel.close();
        }
        if let Some(release) = tab.release.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
        if let Some(clock) = clock {
            clock.clear();
        }
    });
}

/// Joins the tabs: listens on the channel, asks for the leader's state, and asks for the lock
/// (or, without Web Locks, stands). `false` where the browser lacks `BroadcastChannel`.
fn share(tab: &Shared) -> bool {
    let Ok(channel) = BroadcastChannel::new(NAME) else { return false };
    let on_message = {
        let tab = tab.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if let Some(text) = e.unchecked_into::<MessageEvent>().data().as_string() {
                heard_from_tab(&tab, &text);
            }
        })
    };
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    {
        let mut t = tab.borrow_mut();
        // Until a leader speaks (or this tab leads), nothing here is live.
        t.live.stream.set(StreamState::Connecting);
        t.channel = Some(channel);
        t.handlers.push(on_message);
        let hello = format!("hello:{}", t.live.snapshot.with_untracked(|s| s.version));
        t.post(&hello);
    }
    let Some(locks) = lock_manager() else {
        // Milliseconds since 1970 times 1000, plus a random part: the oldest tab wins.
        tab.borrow_mut().id = Some(now_ms() as u64 * 1000 + (js_sys::Math::random() * 1000.0) as u64);
        on_page_hide_and_show(tab);
        stand(tab);
        return true;
    };

    let granted = {
        let tab = tab.clone();
        Closure::<dyn FnMut(JsValue) -> Promise>::once_into_js(move |_lock: JsValue| {
            let mut release = None;
            let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
            tab.borrow_mut().release = release;
            lead(&tab);
            held
        })
    };
    match locks.request(NAME, granted.unchecked_ref()) {
        Ok(request) => {
            // Refused (an opaque origin, a document going away) before it was granted: alone.
            let t = tab.clone();
            let refused = Closure::<dyn FnMut(JsValue)>::once(move |_: JsValue| {
                if !t.borrow().leader {
                    alone(&t);
                }
            });
            let _ = request.catch(&refused);
            tab.borrow_mut().handlers.push(refused);
        }
        Err(_) => alone(tab),
    }
    true
}

/// Leaves the tabs and follows the stream alone.
fn alone(tab: &Shared) {
    if let Some(channel) = tab.borrow_mut().channel.take() {
        channel.set_onmessage(None);
        channel.close();
    }
    lead(tab);
}

/// This tab has the lock (or is alone): it opens the stream.
fn lead(tab: &Shared) {
    {
        let mut t = tab.borrow_mut();
        if t.gone {
            if let Some(release) = t.release.take() {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
            return;
        }
        t.leader = true;
        t.standing = None;
        t.post_with_id("lead");
        // The followers may show an older status than this tab (its page rendered later).
        t.post(&t.latest);
    }
    open(tab);
}

/// Without Web Locks: this tab offers to lead, and does unless a leader or a lower id speaks
/// up within [`STAND_MS`].
fn stand(tab: &Shared) {
    let round = {
        let mut t = tab.borrow_mut();
        if t.id.is_none() || t.leader || t.gone {
            return;
        }
        t.rounds += 1;
        t.standing = Some(t.rounds);
        t.post_with_id("stand");
        t.rounds
    };
    let tab = tab.clone();
    set_timeout(
        move || {
            let elected = tab.borrow().standing == Some(round);
            if elected {
                lead(&tab);
            }
        },
        Duration::from_millis(STAND_MS),
    );
}

/// Without Web Locks: a tab with a lower id leads, so this one stops.
fn step_down(t: &mut Tab) {
    t.leader = false;
    t.stream = None;
    t.heard_ms = now_ms();
    t.ping_ms = None;
}

/// Without Web Locks: the leading tab says `leave` as its page goes (closed, navigated away,
/// or into the back-forward cache) and stops leading; a page back from that cache stands.
fn on_page_hide_and_show(tab: &Shared) {
    let Some(window) = web_sys::window() else { return };
    let on_hide = {
        let tab = tab.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            let mut t = tab.borrow_mut();
            if t.leader {
                t.post("leave");
                step_down(&mut t);
            }
        })
    };
    let on_show = {
        let tab = tab.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if Reflect::get(&e, &JsValue::from_str("persisted")).ok().and_then(|p| p.as_bool()) == Some(true) {
                stand(&tab);
            }
        })
    };
    let _ = window.add_event_listener_with_callback("pagehide", on_hide.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
    let mut t = tab.borrow_mut();
    t.handlers.push(on_hide);
    t.handlers.push(on_show);
}

/// Opens (or opens again) the leader's stream from the newest version shown.
fn open(tab: &Shared) {
    let (version, old) = {
        let mut t = tab.borrow_mut();
        (t.live.snapshot.with_untracked(|s| s.version), t.stream.take())
    };
    drop(old);
    let heard: Rc<dyn Fn(Heard)> = {
        let tab = tab.clone();
        Rc::new(move |heard| heard_from_stream(&tab, heard))
    };
    let stream = Stream::open(version, heard);
    tab.borrow_mut().stream = stream;
}

/// The leader's stream: shown here and passed on.
fn heard_from_stream(tab: &Shared, heard: Heard) {
    let mut t = tab.borrow_mut();
    match heard {
        Heard::State(state) => {
            if t.live.stream.get_untracked() != state {
                t.live.stream.set(state);
                t.post_state();
            }
        }
        Heard::Status(json) => {
            let message = format!("status:{json}");
            t.post(&message);
            t.apply(&message);
        }
    }
}

/// A message from another tab.
fn heard_from_tab(tab: &Shared, message: &str) {
    let mut t = tab.borrow_mut();
    let (kind, rest) = message.split_once(':').unwrap_or((message, ""));
    let other: Option<u64> = rest.parse().ok();
    if t.leader {
        match kind {
            // Without Web Locks: a tab stands, or another leads too.
            "stand" | "lead" => {
                let (Some(id), Some(other)) = (t.id, other) else { return };
                if kind == "lead" && other < id {
                    step_down(&mut t);
                } else {
                    t.post_with_id("lead");
                    t.post_state();
                }
            }
            "hello" => {
                t.post_state();
                if t.live.snapshot.with_untracked(|s| rest.parse().map_or(true, |asked: u64| s.version > asked)) {
                    t.post(&t.latest);
                }
                // The stream was refused for good, and a tab was (re)loaded: try again.
                if t.live.stream.get_untracked() == StreamState::Offline {
                    drop(t);
                    open(tab);
                }
            }
            "ping" => t.post_state(),
            _ => {}
        }
        return;
    }
    match kind {
        "stand" => {
            if let (Some(id), Some(other), Some(_)) = (t.id, other, t.standing) {
                if other < id {
                    t.standing = None;
                } else {
                    // The other tab joined after this one stood: tell it.
                    t.post_with_id("stand");
                }
            }
            return;
        }
        "leave" => {
            drop(t);
            stand(tab);
            return;
        }
        // A leader spoke.
        "state" | "status" | "view" | "lead" => {
            t.heard_ms = now_ms();
            t.ping_ms = None;
            t.standing = None;
        }
        _ => return,
    }
    match kind {
        "state" => {
            if let Some(state) = state_named(rest) {
                t.live.stream.set(state);
            }
        }
        "status" | "view" => t.apply(message),
        _ => {}
    }
}

/// Once a second in a follower: a leader that stays silent is asked, and one that does not
/// answer is no longer taken at its word.
fn watch(tab: &Shared) {
    let mut t = tab.borrow_mut();
    if t.leader || t.channel.is_none() {
        return;
    }
    let now = now_ms();
    match t.ping_ms {
        None if now - t.heard_ms > QUIET_MS => {
            t.ping_ms = Some(now);
            t.post("ping");
        }
        Some(asked) if now - asked > ANSWER_MS => {
            // Ask again at the next tick; meanwhile, not live.
            t.ping_ms = None;
            t.heard_ms = now - QUIET_MS;
            if t.live.stream.get_untracked() == StreamState::Live {
                t.live.stream.set(StreamState::Reconnecting);
            }
            // Without Web Locks, the leader may have gone without a word: stand.
            if t.id.is_some() {
                drop(t);
                stand(tab);
            }
        }
        _ => {}
    }
}
