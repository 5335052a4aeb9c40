//! The store's behaviour, written once and run against every backend (`sqlite::…` and
//! `postgres::…` tests, the latter on a throwaway PostgreSQL cluster). A backend that
//! passes these is a backend. "Reopening" is what a restart does: a new store on the same
//! file or database.

use super::copy::{copy, CopyError, Rows, Table};
use super::postgres::throwaway::Throwaway;
use super::*;
use crate::model::{Impact, Incident, IncidentStatus, Level, Override};
use std::sync::Arc;

/// Where a backend keeps its data for one test: opening it again is a restart.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    async fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    async fn postgres() -> Backend {
        Backend::Postgres(Throwaway::shared().database().await)
    }

    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Backend::Sqlite(dir) => Arc::new(SqliteStore::open(dir.path()).await.unwrap()),
            Backend::Postgres(url) => Arc::new(PgStore::open(url, url).await.unwrap()),
        }
    }
}

/// Each contract test, once for each backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(super::Backend::sqlite().await).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::$name(super::Backend::postgres().await).await } )*
        }
    };
}

contract!(
    state_round_trips_and_survives_reopening,
    results_roll_up_per_minute_hour_and_day_and_are_pruned,
    incidents_round_trip_through_their_timeline_and_a_reopen,
    resolved_incidents_page_by_resolution_time_and_id,
    maintenance_windows_are_kept_until_over_or_cancelled,
    sessions_survive_a_reopen_until_they_expire_or_end,
    failed_logins_are_counted_once_each_by_every_handle,
    copy_moves_every_table_whole_and_refuses_a_full_target,
    incident_updates_never_fail_beside_a_busy_history_writer,
    outbox_notes_levels_once_and_incidents_in_their_transaction,
    outbox_subscribers_confirm_and_unsubscribe,
    outbox_claims_are_exclusive_across_handles_and_retries_wait,
);

async fn state_round_trips_and_survives_reopening(b: Backend) {
    let store = b.open().await;
    assert_eq!(store.load_state().await.unwrap(), PersistedState::default());
    let state = PersistedState {
        version: 2000,
        operator_override: Some(Override { level: Level::PartialOutage, message: "db <slow>".into(), set_at_ms: 5 }),
    };
    store.save_state(&state).await.unwrap();
    drop(store);
    let again = b.open().await;
    assert_eq!(again.load_state().await.unwrap(), state);
    let cleared = PersistedState { version: 3000, operator_override: None };
    again.save_state(&cleared).await.unwrap();
    assert_eq!(b.open().await.load_state().await.unwrap(), cleared);
}

async fn results_roll_up_per_minute_hour_and_day_and_are_pruned(b: Backend) {
    let store = b.open().await;
    let day = 86_400_000;
    let t0 = 20_000 * day; // midnight UTC
    let row = |at, level, latency| ResultRow { component: "api".into(), at_ms: at, level, latency_ms: latency };
    store
        .record(&[
            row(t0 + 1_000, Level::Operational, Some(10)),
            row(t0 + 31_000, Level::Operational, Some(30)),
            row(t0 + 61_000, Level::MajorOutage, None),
            row(t0 + day + 5_000, Level::DegradedPerformance, Some(50)),
        ])
        .await
        .unwrap();
    let minutes = store.history("api", Span::Minute, t0).await.unwrap();
    assert_eq!(minutes.len(), 3);
    assert_eq!((minutes[0].samples, minutes[0].operational), (2, 2));
    assert_eq!(minutes[0].latency_avg_ms, Some(20.0));
    assert_eq!(minutes[1].worst_level, Level::MajorOutage);
    assert_eq!(minutes[1].latency_avg_ms, None);
    let days = store.history("api", Span::Day, t0).await.unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!((days[0].samples, days[0].operational, days[0].worst_level), (3, 2, Level::MajorOutage));
    assert_eq!(days[0].latency_max_ms, Some(30));
    assert_eq!(days[1].worst_level, Level::DegradedPerformance);
    assert_eq!((days[0].minutes, days[1].minutes), (2, 1), "distinct minutes with results");
    // A later batch in a minute already seen does not count it again; a new one does, in its
    // own hour only.
    store
        .record(&[
            row(t0 + 40_000, Level::Operational, Some(5)),
            row(t0 + 125_000, Level::Operational, None),
            row(t0 + 3 * 3_600_000, Level::Operational, None),
        ])
        .await
        .unwrap();
    let days = store.history("api", Span::Day, t0).await.unwrap();
    assert_eq!(days[0].minutes, 4);
    let hours = store.history("api", Span::Hour, t0).await.unwrap();
    assert_eq!((hours[0].minutes, hours[1].minutes), (3, 1), "each minute counted in its own hour");
    assert!(store.history("other", Span::Day, t0).await.unwrap().is_empty(), "no data is not uptime");
    let of = store.history_of(&["api".into(), "other".into()], Span::Day, t0, Span::Day.millis()).await.unwrap();
    assert_eq!((of["api"].len(), of.get("other")), (2, None));
    assert_eq!(of["api"], days, "by day, as history() reads them");
    assert!(store.history_of(&["other".into()], Span::Day, t0, Span::Day.millis()).await.unwrap().is_empty());
    // Minutes merged into 5-minute steps: the first three minutes (five results) are one.
    let five = store.history_of(&["api".into()], Span::Minute, t0, 300_000).await.unwrap();
    let f = &five["api"][0];
    assert_eq!((f.start_ms, f.samples, f.operational, f.worst_level, f.minutes), (t0, 5, 4, Level::MajorOutage, 3));
    assert_eq!((f.latency_avg_ms, f.latency_max_ms), (Some(15.0), Some(30)), "weighted by results");
    drop(store);

    // A restart keeps the history; a day and a half later the raw rows and the first
    // minutes are gone, the days are kept.
    let store = b.open().await;
    assert_eq!(store.history("api", Span::Day, t0).await.unwrap(), days, "kept across a reopen");
    let deleted = store.prune(t0 + day + day / 2 + 49 * 3_600_000).await.unwrap();
    assert!(deleted >= 3, "{deleted}");
    assert!(store.history("api", Span::Minute, t0).await.unwrap().is_empty());
    assert_eq!(store.history("api", Span::Day, t0).await.unwrap().len(), 2, "days are kept");
    assert_eq!(store.count(Table::CheckResults).await.unwrap(), 0, "raw results past 24 h are gone");
}

fn new_incident(title: &str) -> NewIncident {
    NewIncident {
        title: title.into(),
        impact: Impact::Major,
        components: vec!["api".into()],
        status: IncidentStatus::Investigating,
        message: "We are looking into <errors>.\nMore soon.".into(),
    }
}

fn ids(v: &[Incident]) -> Vec<i64> {
    v.iter().map(|i| i.id).collect()
}

async fn incidents_round_trip_through_their_timeline_and_a_reopen(b: Backend) {
    let store = b.open().await;
    let a = store.open_incident(&new_incident("API errors"), 1_000).await.unwrap();
    let c = store.open_incident(&new_incident("Slow logins"), 2_000).await.unwrap();
    assert_eq!((a.status, a.started_ms, a.updates.len()), (IncidentStatus::Investigating, 1_000, 1));
    assert_eq!(a.updates[0].message, "We are looking into <errors>.\nMore soon.");
    let up = NewUpdate { status: IncidentStatus::Identified, message: "A bad deploy.".into(), impact: Some(Impact::Minor) };
    let a2 = store.update_incident(a.id, &up, 3_000).await.unwrap();
    assert_eq!((a2.status, a2.impact), (IncidentStatus::Identified, Impact::Minor));
    assert_eq!(
        a2.updates.iter().map(|u| u.status).collect::<Vec<_>>(),
        [IncidentStatus::Identified, IncidentStatus::Investigating]
    );
    assert_eq!(ids(&store.active_incidents().await.unwrap()), [c.id, a.id], "newest first");

    let done = NewUpdate { status: IncidentStatus::Resolved, message: "Rolled back.".into(), impact: None };
    let a3 = store.update_incident(a.id, &done, 4_000).await.unwrap();
    assert_eq!((a3.resolved_ms, a3.impact), (Some(4_000), Impact::Minor));
    assert!(matches!(store.update_incident(a.id, &done, 5_000).await.unwrap_err(), UpdateRefused::Resolved));
    assert!(matches!(store.update_incident(999, &done, 5_000).await.unwrap_err(), UpdateRefused::NotFound));
    assert_eq!(store.incident(a.id).await.unwrap(), Some(a3.clone()));
    assert_eq!(store.incident(999).await.unwrap(), None);
    drop(store);

    let store = b.open().await;
    assert_eq!(ids(&store.active_incidents().await.unwrap()), [c.id]);
    let resolved = store.resolved_incidents((i64::MAX, 0), 10).await.unwrap();
    assert_eq!(resolved, vec![a3], "kept whole across a reopen");
    assert!(store.resolved_incidents((4_000, a.id), 10).await.unwrap().is_empty(), "paging after the last one");
    assert_eq!(store.resolved_incidents((4_000, a.id + 1), 10).await.unwrap().len(), 1, "same time, lower id");
    assert_eq!(ids(&store.incidents_since(4_000).await.unwrap()), [c.id, a.id], "resolved at 4,000: in the window");
    assert_eq!(ids(&store.incidents_since(4_001).await.unwrap()), [c.id]);
}

async fn resolved_incidents_page_by_resolution_time_and_id(b: Backend) {
    let store = b.open().await;
    let done = NewUpdate { status: IncidentStatus::Resolved, message: "Fixed.".into(), impact: None };
    let mut opened = Vec::new();
    for i in 0..30 {
        let inc = store.open_incident(&new_incident(&format!("incident {i}")), 1_000 + i).await.unwrap();
        // Pairs resolve at the same time: the id breaks the tie.
        store.update_incident(inc.id, &done, 10_000 + i / 2).await.unwrap();
        opened.push(inc.id);
    }
    let mut seen = Vec::new();
    let mut after = (i64::MAX, 0);
    loop {
        let page = store.resolved_incidents(after, 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        let last = page.last().unwrap();
        after = (last.resolved_ms.unwrap(), last.id);
        seen.extend(ids(&page));
    }
    opened.reverse();
    assert_eq!(seen, opened, "every incident once, most recently resolved (then highest id) first");
}

async fn maintenance_windows_are_kept_until_over_or_cancelled(b: Backend) {
    let store = b.open().await;
    let window = |title: &str, starts_ms, ends_ms| NewMaintenance {
        title: title.into(),
        starts_ms,
        ends_ms,
        components: vec!["db".into(), "api".into()],
    };
    let later = store.add_maintenance(&window("Upgrade <db>", 5_000, 9_000), 100).await.unwrap();
    let sooner = store.add_maintenance(&window("Network", 2_000, 3_000), 100).await.unwrap();
    assert_eq!(later.components, ["db", "api"]);
    assert_eq!(store.current_maintenance(1_000).await.unwrap(), vec![sooner.clone(), later.clone()], "soonest first");
    assert_eq!(store.current_maintenance(3_000).await.unwrap(), vec![later.clone()], "over at its end");
    drop(store);
    let store = b.open().await;
    assert_eq!(store.current_maintenance(1_000).await.unwrap(), vec![sooner.clone(), later.clone()], "kept across a reopen");
    assert!(!store.cancel_maintenance(sooner.id, 3_000).await.unwrap(), "a window that is over cannot be cancelled");
    assert!(store.cancel_maintenance(later.id, 3_000).await.unwrap());
    assert!(!store.cancel_maintenance(later.id, 3_000).await.unwrap(), "only once");
    assert!(!store.cancel_maintenance(999, 0).await.unwrap());
    assert_eq!(store.current_maintenance(1_000).await.unwrap(), vec![sooner.clone()]);
    let over = store.add_maintenance(&window("Past", 500, 600), 100).await.unwrap();
    assert_eq!(
        store.recent_maintenance(10).await.unwrap(),
        vec![sooner.clone(), over.clone()],
        "latest start first, none cancelled"
    );
    assert_eq!(store.recent_maintenance(1).await.unwrap(), vec![sooner]);
}

async fn sessions_survive_a_reopen_until_they_expire_or_end(b: Backend) {
    let store = b.open().await;
    let s = StoredSession { csrf: "c".repeat(64), expires_ms: 10_000 };
    store.add_session("h1", &s).await.unwrap();
    drop(store);
    let store = b.open().await;
    assert_eq!(store.session("h1", 9_999).await.unwrap(), Some(s));
    assert_eq!(store.session("h1", 10_000).await.unwrap(), None, "expired");
    assert_eq!(store.session("nope", 0).await.unwrap(), None);
    store.end_session("h1").await.unwrap();
    assert_eq!(store.session("h1", 0).await.unwrap(), None);
    store.add_session("h2", &StoredSession { csrf: "x".into(), expires_ms: 5 }).await.unwrap();
    assert_eq!(store.prune_sessions(5).await.unwrap(), 1);
}

async fn failed_logins_are_counted_once_each_by_every_handle(b: Backend) {
    // Two handles on one database, as two instances have: 20 failures at once, none lost.
    let (one, two) = (b.open().await, b.open().await);
    let window = 60_000;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move { store.add_login_failure("10.0.0.1", 1_000, window).await.unwrap() }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(two.login_failures("10.0.0.1").await.unwrap(), Some(LoginFailures { window_start_ms: 1_000, failures: 20 }));
    assert_eq!(one.login_failures("10.0.0.2").await.unwrap(), None);
    // After the window, a failure starts a new one.
    one.add_login_failure("10.0.0.1", 61_000, window).await.unwrap();
    assert_eq!(one.login_failures("10.0.0.1").await.unwrap(), Some(LoginFailures { window_start_ms: 61_000, failures: 1 }));
    two.add_login_failure("10.0.0.2", 5_000, window).await.unwrap();
    assert_eq!(one.prune_login_failures(6_000).await.unwrap(), 1, "windows that began before are gone");
    one.clear_login_failures("10.0.0.1").await.unwrap();
    assert_eq!(two.login_failures("10.0.0.1").await.unwrap(), None);
}

/// A store with something in every table.
async fn populate(store: &dyn Store) {
    let state = PersistedState {
        version: 7000,
        operator_override: Some(Override { level: Level::MajorOutage, message: "down".into(), set_at_ms: 9 }),
    };
    store.save_state(&state).await.unwrap();
    let day = 86_400_000;
    let now = 20_000 * day;
    let mut rows = Vec::new();
    for i in 0..600 {
        let level = if i % 50 == 0 { Level::MajorOutage } else { Level::Operational };
        for c in ["api", "db"] {
            rows.push(ResultRow { component: c.into(), at_ms: now - i * 30_000, level, latency_ms: Some(i as u32 % 90) });
        }
    }
    store.record(&rows).await.unwrap();
    let a = store.open_incident(&new_incident("API errors"), now - 5_000).await.unwrap();
    let done = NewUpdate { status: IncidentStatus::Resolved, message: "Fixed.".into(), impact: None };
    store.update_incident(a.id, &done, now - 1_000).await.unwrap();
    store.open_incident(&new_incident("Slow <logins>"), now - 500).await.unwrap();
    let upgrade =
        NewMaintenance { title: "Upgrade".into(), starts_ms: now + 1_000, ends_ms: now + 9_000, components: vec!["db".into()] };
    let w = store.add_maintenance(&upgrade, now).await.unwrap();
    store.add_maintenance(&NewMaintenance { title: "Later".into(), ..upgrade }, now).await.unwrap();
    store.cancel_maintenance(w.id, now).await.unwrap();
    store.add_session("h1", &StoredSession { csrf: "c".into(), expires_ms: now + day }).await.unwrap();
    store.add_login_failure("10.0.0.9", now, 60_000).await.unwrap();
    let viewer = outbox::NewSubscriber {
        channel: outbox::SubscriberChannel::Email,
        address: "viewer@example.com".into(),
        components: vec!["api".into()],
        token: "viewer-token".into(),
    };
    store.subscribe(&viewer, now, 600_000).await.unwrap();
    store.confirm_subscriber("viewer-token", now + 1).await.unwrap();
}

async fn every_table(store: &dyn Store) -> Vec<Rows> {
    let mut out = Vec::new();
    for t in Table::ALL {
        out.push(store.export(t).await.unwrap());
    }
    out
}

async fn copy_moves_every_table_whole_and_refuses_a_full_target(b: Backend) {
    let source = b.open().await;
    populate(source.as_ref()).await;
    let tables = every_table(source.as_ref()).await;
    assert!(tables.iter().all(|t| !t.is_empty()), "every table has rows: {tables:?}");
    // Into the other backend and back into a fresh one of this kind: nothing changes.
    let other = match b {
        Backend::Sqlite(_) => Backend::postgres().await,
        Backend::Postgres(_) => Backend::sqlite().await,
    };
    let other = other.open().await;
    let copied = copy(source.as_ref(), other.as_ref(), false).await.unwrap();
    assert_eq!(copied.iter().map(|(_, n)| *n).collect::<Vec<_>>(), tables.iter().map(Rows::len).collect::<Vec<_>>());
    assert_eq!(every_table(other.as_ref()).await, tables, "the other backend holds the same rows");
    let fresh = match b {
        Backend::Sqlite(_) => Backend::sqlite().await,
        Backend::Postgres(_) => Backend::postgres().await,
    };
    let back = fresh.open().await;
    copy(other.as_ref(), back.as_ref(), false).await.unwrap();
    assert_eq!(every_table(back.as_ref()).await, tables, "and back");

    // A target that holds anything is refused, and left as it was; --force replaces it.
    let refused = copy(source.as_ref(), back.as_ref(), false).await.unwrap_err();
    assert!(matches!(&refused, CopyError::NotEmpty(held) if held.contains("incidents: 2 rows")), "{refused}");
    assert_eq!(every_table(back.as_ref()).await, tables);
    copy(source.as_ref(), back.as_ref(), true).await.unwrap();
    assert_eq!(every_table(back.as_ref()).await, tables, "replaced, not added to");
    // New rows get ids after the copied ones, and the copied history reads as before.
    let next = back.open_incident(&new_incident("After the move"), 1).await.unwrap();
    let max = source.active_incidents().await.unwrap().iter().map(|i| i.id).max().unwrap();
    assert!(next.id > max, "{} > {max}", next.id);
    let day = 86_400_000;
    let ids = ["api".to_string(), "db".to_string()];
    assert_eq!(
        back.history_of(&ids, Span::Day, 0, day).await.unwrap(),
        source.history_of(&ids, Span::Day, 0, day).await.unwrap()
    );
}

#[tokio::test]
async fn two_instances_starting_at_once_migrate_once() {
    let url = Throwaway::shared().database().await;
    let (a, b) = tokio::join!(PgStore::open(&url, &url), PgStore::open(&url, &url));
    let (a, b) = (a.unwrap(), b.unwrap());
    a.save_state(&PersistedState { version: 5, operator_override: None }).await.unwrap();
    assert_eq!(b.load_state().await.unwrap().version, 5);
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_until_it_is_back() {
    let cluster = Throwaway::start();
    let url = cluster.database().await;
    let store = PgStore::open(&url, &url).await.unwrap();
    store.add_session("h", &StoredSession { csrf: "c".into(), expires_ms: 10 }).await.unwrap();
    cluster.stop();
    let e = store.session("h", 0).await.unwrap_err();
    assert!(e.is_unavailable(), "{e:?}");
    let e = store.open_incident(&new_incident("while down"), 1).await.unwrap_err();
    assert!(e.is_unavailable(), "{e:?}");
    cluster.resume();
    // The pool replaces its lost connections by itself.
    assert!(store.session("h", 0).await.unwrap().is_some());
    assert!(store.active_incidents().await.unwrap().is_empty(), "the refused write left nothing");
    let gone = PgStore::open(&cluster.url("no_such_db"), "postgres://…/no_such_db").await.map(|_| ()).unwrap_err();
    assert!(gone.to_string().contains("no_such_db"), "{gone}");
}

async fn incident_updates_never_fail_beside_a_busy_history_writer(b: Backend) {
    // 300 results a second and more, as a large configuration writes them, while operators
    // update an incident: every update is written (SQLite: no "database is locked").
    let store = b.open().await;
    let incident = store.open_incident(&new_incident("Busy"), 1).await.unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut batches = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let rows: Vec<ResultRow> = (0..300)
                    .map(|i| ResultRow {
                        component: format!("c{}", i % 30),
                        at_ms: batches * 60_000 + i,
                        level: Level::Operational,
                        latency_ms: Some(5),
                    })
                    .collect();
                store.record(&rows).await.unwrap();
                batches += 1;
            }
            batches
        })
    };
    let updates = (0..40).map(|i| {
        let store = store.clone();
        async move {
            let up = NewUpdate { status: IncidentStatus::Monitoring, message: format!("update {i}"), impact: None };
            store.update_incident(incident.id, &up, 10 + i).await
        }
    });
    let results = futures_util::future::join_all(updates).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let batches = writer.await.unwrap();
    let failed: Vec<String> = results.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    assert!(failed.is_empty(), "{} of 40 updates failed beside {batches} history batches: {failed:?}", failed.len());
    assert_eq!(store.incident(incident.id).await.unwrap().unwrap().updates.len(), 41);
}

async fn outbox_notes_levels_once_and_incidents_in_their_transaction(b: Backend) {
    use crate::server::notify::event::{EventKind, NewEvent};
    let store = b.open().await;
    let other = b.open().await; // another instance on the same data
    let levels = |l: Level| vec![("api".to_string(), l), ("db".to_string(), Level::Operational)];
    let noted = store.note_levels(5, &levels(Level::MajorOutage), 1_000).await.unwrap();
    assert_eq!(
        noted,
        [NewEvent::Component {
            kind: EventKind::ComponentChanged,
            component: "api".into(),
            old: Level::Operational,
            new: Level::MajorOutage,
            target: None
        }],
        "a component never noted was operational; an operational one is no change"
    );
    assert!(other.note_levels(5, &levels(Level::MajorOutage), 1_001).await.unwrap().is_empty(), "the same version once");
    assert!(other.note_levels(4, &levels(Level::Operational), 1_002).await.unwrap().is_empty(), "an older version never");
    assert!(other.note_levels(6, &levels(Level::MajorOutage), 1_003).await.unwrap().is_empty(), "no change, no event");
    assert_eq!(store.failing_components().await.unwrap(), [("api".to_string(), Level::MajorOutage, 1_000)]);
    assert_eq!(other.note_levels(7, &levels(Level::Operational), 2_000).await.unwrap().len(), 1, "recovered");
    let incident = NewIncident {
        title: "db <slow>".into(),
        impact: Impact::Major,
        components: vec!["db".into()],
        status: IncidentStatus::Investigating,
        message: "looking".into(),
    };
    let opened = store.open_incident(&incident, 3_000).await.unwrap();
    let resolve = NewUpdate { status: IncidentStatus::Resolved, message: "fixed".into(), impact: None };
    store.update_incident(opened.id, &resolve, 4_000).await.unwrap();
    let events = store.unexpanded_events(10).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::ComponentChanged, EventKind::ComponentChanged, EventKind::IncidentOpened, EventKind::IncidentResolved]
    );
    assert_eq!((events[3].incident_id, events[3].message.as_deref()), (Some(opened.id), Some("fixed")));
    assert_eq!(store.event(events[2].id).await.unwrap().as_ref(), Some(&events[2]));
    // A refused update writes no event.
    assert!(store.update_incident(opened.id, &resolve, 5_000).await.is_err());
    assert_eq!(store.unexpanded_events(10).await.unwrap().len(), 4);
    // Expanding twice (two instances) writes each delivery once.
    let d = |t: &str| outbox::NewDelivery { target: t.into(), subscriber_id: None, component: Some("api".into()) };
    store.expand_event(events[0].id, &[d("notify:a"), d("notify:b")], 6_000).await.unwrap();
    other.expand_event(events[0].id, &[d("notify:a"), d("notify:c")], 6_000).await.unwrap();
    assert_eq!(store.unexpanded_events(10).await.unwrap().len(), 3);
    assert_eq!(store.delivery_counts().await.unwrap(), outbox::DeliveryCounts { sent: 0, failed: 0, pending: 2 });
    assert_eq!(store.last_delivery_about("notify:a", "api").await.unwrap(), Some(6_000));
    assert_eq!(store.last_delivery_about("notify:c", "api").await.unwrap(), None);
}

async fn outbox_subscribers_confirm_and_unsubscribe(b: Backend) {
    use outbox::{NewSubscriber, Subscribed, SubscriberChannel};
    let store = b.open().await;
    let new = |address: &str, channel| NewSubscriber {
        channel,
        address: address.into(),
        components: vec!["api".into()],
        token: format!("token-{address}"),
    };
    let mail = new("a@example.com", SubscriberChannel::Email);
    let Subscribed::New(a) = store.subscribe(&mail, 1_000, 600_000).await.unwrap() else { panic!("new") };
    assert_eq!(a.confirmed_ms, None);
    // Asked again within 10 minutes: no second mail; after: another.
    assert!(matches!(store.subscribe(&mail, 2_000, 600_000).await.unwrap(), Subscribed::Unconfirmed(_, false)));
    assert!(matches!(store.subscribe(&mail, 700_000, 600_000).await.unwrap(), Subscribed::Unconfirmed(_, true)));
    let log = store.delivery_log(10, false).await.unwrap();
    assert_eq!(log.len(), 2, "two confirmation mails queued: {log:?}");
    assert!(log.iter().all(|d| d.event.is_none() && d.target == a.target()));
    assert!(store.confirmed_subscribers().await.unwrap().is_empty());
    assert_eq!(store.confirm_subscriber("nope", 3_000).await.unwrap(), None);
    let confirmed = store.confirm_subscriber(&mail.token, 800_000).await.unwrap().unwrap();
    assert_eq!(confirmed.confirmed_ms, Some(800_000));
    assert!(matches!(store.subscribe(&mail, 900_000, 600_000).await.unwrap(), Subscribed::Confirmed(_)));
    // A webhook needs no confirmation.
    let hook = new("https://example.com/hook", SubscriberChannel::Webhook);
    let Subscribed::New(h) = store.subscribe(&hook, 1_000, 600_000).await.unwrap() else { panic!("new") };
    assert!(h.confirmed_ms.is_some());
    assert_eq!(store.confirmed_subscribers().await.unwrap().len(), 2);
    let (listed, total) = b.open().await.subscribers(1).await.unwrap();
    assert_eq!((listed.len(), total), (1, 2));
    // Unsubscribing removes it and what it had not been sent.
    assert_eq!(store.unsubscribe(&mail.token).await.unwrap().map(|s| s.address), Some("a@example.com".into()));
    assert_eq!(store.unsubscribe(&mail.token).await.unwrap(), None);
    assert_eq!(store.delivery_counts().await.unwrap().pending, 0);
    assert!(store.remove_subscriber(h.id).await.unwrap());
    assert!(!store.remove_subscriber(h.id).await.unwrap());
    assert_eq!(store.subscribers(10).await.unwrap().1, 0);
}

async fn outbox_claims_are_exclusive_across_handles_and_retries_wait(b: Backend) {
    use outbox::Outcome;
    let store = b.open().await;
    let event = crate::server::notify::event::NewEvent::Component {
        kind: crate::server::notify::event::EventKind::ComponentChanged,
        component: "api".into(),
        old: Level::Operational,
        new: Level::MajorOutage,
        target: None,
    };
    let id = store.add_event(&event, 1_000).await.unwrap();
    let deliveries: Vec<_> =
        (0..200).map(|i| outbox::NewDelivery { target: format!("notify:{i}"), subscriber_id: None, component: None }).collect();
    store.expand_event(id, &deliveries, 1_000).await.unwrap();
    // Two instances claim at once until nothing is left: every delivery once.
    let claim_all = |name: &'static str, s: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = s.claim_deliveries(name, 2_000, 60_000, 7).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|c| (c.id, c.attempts)));
            }
        })
    };
    let (a, b2) = (claim_all("a", b.open().await), claim_all("b", b.open().await));
    let (a, b2) = (a.await.unwrap(), b2.await.unwrap());
    let mut all: Vec<i64> = a.iter().chain(&b2).map(|(id, _)| *id).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 200);
    assert_eq!(a.len() + b2.len(), 200, "no delivery claimed twice");
    assert!(a.iter().chain(&b2).all(|(_, attempts)| *attempts == 1));
    // Only the holder finishes a claim.
    let (first, _) = a.first().or(b2.first()).copied().unwrap();
    let holder = if a.iter().any(|(i, _)| *i == first) { "a" } else { "b" };
    let stranger = if holder == "a" { "b" } else { "a" };
    store.finish_deliveries(stranger, &[(first, Outcome::Sent)], 3_000).await.unwrap();
    assert_eq!(store.delivery_counts().await.unwrap().sent, 0);
    let retry = Outcome::Retry { next_ms: 20_000, error: "503 from the receiver".into() };
    store.finish_deliveries(holder, &[(first, retry)], 3_000).await.unwrap();
    // Not due before its time, nor the others before their lease ends.
    assert!(store.claim_deliveries("c", 19_999, 60_000, 500).await.unwrap().is_empty());
    let again = store.claim_deliveries("c", 20_000, 60_000, 500).await.unwrap();
    assert_eq!(again.iter().map(|c| (c.id, c.attempts)).collect::<Vec<_>>(), [(first, 2)]);
    let log = store.delivery_log(500, true).await.unwrap();
    assert_eq!(log.iter().map(|d| d.last_error.as_deref()).collect::<Vec<_>>(), [Some("503 from the receiver")]);
    store.finish_deliveries("c", &[(first, Outcome::Failed { error: "gave up".into() })], 21_000).await.unwrap();
    // A restarted single instance releases its old claims: the rest are due at once.
    assert_eq!(store.release_claims().await.unwrap(), 199);
    assert_eq!(store.claim_deliveries("d", 21_000, 60_000, 500).await.unwrap().len(), 199);
    assert_eq!(store.delivery_counts().await.unwrap(), outbox::DeliveryCounts { sent: 0, failed: 1, pending: 199 });
    assert_eq!(store.prune_outbox(1_000_000).await.unwrap(), 1, "the failed delivery, past its keeping");
}
