//! The hub: holds the latest published snapshot and fans it out.
//!
//! It is a latest-value channel (`tokio::sync::watch`): a subscriber always sees the newest
//! snapshot and never a backlog, and a slow subscriber cannot hold up the engine or anyone
//! else. Each snapshot is encoded as an SSE event once, at publish time; every stream sends
//! the same shared bytes.

use crate::model::Snapshot;
use crate::server::stream::event::encode_event;
use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The SSE event name carrying a snapshot.
pub const STATUS_EVENT: &str = "status";

/// A published snapshot with its pre-encoded SSE event.
#[derive(Debug)]
pub struct Published {
    pub snapshot: Arc<Snapshot>,
    /// `id: N\nevent: status\ndata: {json}\n\n`
    pub event: Bytes,
    /// The snapshot as JSON (for the JSON API).
    pub json: Bytes,
}

impl Published {
    pub fn new(snapshot: Snapshot) -> Self {
        let json = serde_json::to_string(&snapshot).expect("a snapshot always serialises");
        let event = encode_event(Some(&snapshot.version.to_string()), Some(STATUS_EVENT), &json);
        Published { snapshot: Arc::new(snapshot), event: Bytes::from(event), json: Bytes::from(json) }
    }

    /// A snapshot stored as JSON by another instance (`server::cluster`): the event is built
    /// from these very bytes, so every instance sends the same bytes for the same version.
    pub fn from_json(json: String) -> Result<Self, serde_json::Error> {
        let snapshot: Snapshot = serde_json::from_str(&json)?;
        let event = encode_event(Some(&snapshot.version.to_string()), Some(STATUS_EVENT), &json);
        Ok(Published { snapshot: Arc::new(snapshot), event: Bytes::from(event), json: Bytes::from(json) })
    }

    pub fn version(&self) -> u64 {
        self.snapshot.version
    }
}

/// What every stream listens to besides the snapshot: a shared heartbeat tick, and the
/// shutdown signal that ends every stream at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Beat(u64),
    Shutdown,
}

#[derive(Clone)]
pub struct Hub {
    latest: Arc<watch::Sender<Arc<Published>>>,
    control: Arc<watch::Sender<Control>>,
    open_streams: Arc<AtomicUsize>,
}

impl Hub {
    pub fn new(initial: Snapshot) -> Self {
        let (latest, _) = watch::channel(Arc::new(Published::new(initial)));
        let (control, _) = watch::channel(Control::Beat(0));
        Hub { latest: Arc::new(latest), control: Arc::new(control), open_streams: Arc::new(AtomicUsize::new(0)) }
    }

    /// Replaces the latest snapshot; every subscriber wakes once and reads the newest.
    pub fn publish(&self, snapshot: Snapshot) {
        self.latest.send_replace(Arc::new(Published::new(snapshot)));
    }

    /// Replaces the latest snapshot with one already encoded (see [`Published::from_json`]) if
    /// it is newer; whether it was. (Two tasks of one instance may both have the newest
    /// version of several: the hub never goes back, nor wakes its streams twice for one.)
    pub fn publish_if_newer(&self, published: Arc<Published>) -> bool {
        self.latest.send_if_modified(|latest| {
            let newer = published.version() > latest.version();
            if newer {
                *latest = published.clone();
            }
            newer
        })
    }

    pub fn current(&self) -> Arc<Published> {
        self.latest.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<Published>> {
        self.latest.subscribe()
    }

    pub fn control(&self) -> watch::Receiver<Control> {
        self.control.subscribe()
    }

    /// Ends every open stream now, and refuses new ones.
    pub fn shutdown(&self) {
        self.control.send_replace(Control::Shutdown);
    }

    pub fn is_shut_down(&self) -> bool {
        *self.control.borrow() == Control::Shutdown
    }

    /// One ticker for all streams: each tick makes every open stream send a comment line.
    pub fn spawn_heartbeat(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let control = self.control.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await; // the first tick is immediate
            loop {
                ticker.tick().await;
                let mut stop = false;
                control.send_if_modified(|c| match c {
                    Control::Beat(n) => {
                        *c = Control::Beat(n.wrapping_add(1));
                        true
                    }
                    Control::Shutdown => {
                        stop = true;
                        false
                    }
                });
                if stop {
                    return;
                }
            }
        })
    }

    pub fn open_streams(&self) -> usize {
        self.open_streams.load(Ordering::Relaxed)
    }

    /// Counts a stream as open until the returned guard is dropped.
    pub fn stream_guard(&self) -> StreamGuard {
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        StreamGuard(self.open_streams.clone())
    }
}

/// Decrements the open-stream count when a stream's body is dropped (client gone, or
/// shutdown).
pub struct StreamGuard(Arc<AtomicUsize>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_late_subscriber_sees_only_the_newest_snapshot() {
        let hub = Hub::new(Snapshot::unknown());
        let mut rx = hub.subscribe();
        rx.borrow_and_update();
        for v in 1..=100 {
            let mut s = Snapshot::unknown();
            s.version = v;
            hub.publish(s);
        }
        rx.changed().await.unwrap();
        assert_eq!(rx.borrow_and_update().version(), 100);
        assert!(!rx.has_changed().unwrap(), "no backlog after reading the newest");
    }

    #[test]
    fn published_event_is_encoded_once_with_id_and_name() {
        let mut s = Snapshot::unknown();
        s.version = 42;
        let p = Published::new(s);
        let text = std::str::from_utf8(&p.event).unwrap();
        assert!(text.starts_with("id: 42\nevent: status\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
        assert_eq!(text.matches('\n').count(), 4, "JSON data stays on one line");
    }

    #[test]
    fn a_snapshot_from_its_json_has_the_same_bytes() {
        let mut s = Snapshot::unknown();
        s.version = 7;
        s.message = "line\nbreak \u{2028} <b>".into();
        let here = Published::new(s);
        let there = Published::from_json(String::from_utf8(here.json.to_vec()).unwrap()).unwrap();
        assert_eq!(there.event, here.event);
        assert_eq!(there.json, here.json);
        assert_eq!(*there.snapshot, *here.snapshot);
    }

    #[test]
    fn an_encoded_snapshot_is_published_only_if_newer() {
        let hub = Hub::new(Snapshot::unknown());
        let at = |v| {
            let mut s = Snapshot::unknown();
            s.version = v;
            Arc::new(Published::new(s))
        };
        let mut rx = hub.subscribe();
        rx.borrow_and_update();
        assert!(hub.publish_if_newer(at(5)));
        assert!(!hub.publish_if_newer(at(5)), "the same version again");
        assert!(!hub.publish_if_newer(at(3)), "an older one");
        assert_eq!(hub.current().version(), 5);
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        assert!(!rx.has_changed().unwrap(), "subscribers woken once");
    }

    #[test]
    fn stream_guards_count_open_streams() {
        let hub = Hub::new(Snapshot::unknown());
        let a = hub.stream_guard();
        let b = hub.stream_guard();
        assert_eq!(hub.open_streams(), 2);
        drop(a);
        drop(b);
        assert_eq!(hub.open_streams(), 0);
    }
}
