//! Runs every configured check on its own schedule and reports component levels through the
//! engine. Each check is its own task, so a slow or hanging check (bounded by its timeout)
//! never delays another; a semaphore bounds how many run at once.

use super::config::{CheckSpec, ComponentSpec, Probe};
use super::damping::Damper;
use super::history::HistoryWriter;
use super::probe::{self, Outcome};
use crate::model::{ComponentStatus, Level};
use crate::server::clock::now_ms;
use crate::server::domain::engine::Engine;
use crate::server::store::ResultRow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Default)]
struct CheckState {
    damper: Damper,
    last: Option<Outcome>,
    checked_at_ms: i64,
    last_beat: Option<Instant>,
    /// The wall-clock time of that beat (beats stored by other instances are compared by it).
    last_beat_ms: i64,
}

pub struct Runner {
    components: Vec<ComponentSpec>,
    /// Every result goes to the history writer.
    history: HistoryWriter,
    stop: tokio::sync::watch::Sender<bool>,
    state: Vec<Vec<Mutex<CheckState>>>,
    engine: Arc<Engine>,
    http: probe::HttpClients,
    data_dir: PathBuf,
    limit: Arc<Semaphore>,
    started: Instant,
    /// Whether checks run: always on a single instance; on one of several, while it leads.
    active: tokio::sync::watch::Receiver<bool>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeartbeatError {
    UnknownComponent,
    BadToken,
}

impl Runner {
    /// Starts every check; returns once each has run once (or after `first_round_wait`).
    /// While `active` is false the checks wait (an instance that does not lead).
    pub async fn start(
        components: Vec<ComponentSpec>,
        engine: Arc<Engine>,
        concurrency: usize,
        data_dir: PathBuf,
        history: HistoryWriter,
        first_round_wait: Duration,
        active: tokio::sync::watch::Receiver<bool>,
    ) -> Arc<Runner> {
        let state = components.iter().map(|c| c.checks.iter().map(|_| Mutex::new(CheckState::default())).collect()).collect();
        let http = probe::HttpClients::new();
        let runner = Arc::new(Runner {
            components,
            history,
            stop: tokio::sync::watch::channel(false).0,
            state,
            engine,
            http,
            data_dir,
            limit: Arc::new(Semaphore::new(concurrency.max(1))),
            started: Instant::now(),
            active,
        });
        let mut first = Vec::new();
        for (ci, c) in runner.components.iter().enumerate() {
            for ki in 0..c.checks.len() {
                let (tx, rx) = tokio::sync::oneshot::channel();
                first.push(rx);
                tokio::spawn(runner.clone().check_loop(ci, ki, tx));
            }
        }
        if !*runner.active.borrow() {
            return runner; // the checks run once this instance leads
        }
        let _ = tokio::time::timeout(first_round_wait, futures_util::future::join_all(first)).await;
        for ci in 0..runner.components.len() {
            runner.report(ci).await;
        }
        runner
    }

    /// The components this runner reports.
    pub fn component_ids(&self) -> Vec<String> {
        self.components.iter().map(|c| c.id.clone()).collect()
    }

    pub fn components(&self) -> &[ComponentSpec] {
        &self.components
    }

    /// Ends every check task (an in-flight probe is dropped, a running command killed).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    async fn check_loop(self: Arc<Self>, ci: usize, ki: usize, first_done: tokio::sync::oneshot::Sender<()>) {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            _ = stop.wait_for(|s| *s) => {}
            _ = self.clone().check_loop_inner(ci, ki, first_done) => {}
        }
    }

    async fn check_loop_inner(self: Arc<Self>, ci: usize, ki: usize, first_done: tokio::sync::oneshot::Sender<()>) {
        let spec = &self.components[ci].checks[ki];
        let mut first_done = Some(first_done);
        let period = match &spec.probe {
            Probe::Heartbeat { period, .. } => (*period / 10).clamp(Duration::from_millis(50), Duration::from_secs(10)),
            _ => spec.interval,
        };
        let mut active = self.active.clone();
        loop {
            if !*active.borrow_and_update() {
                // Not leading: wait, then check at once (the results so far are another
                // leader's to report).
                if active.wait_for(|a| *a).await.is_err() {
                    return;
                }
                first_done = None;
            }
            let started = tokio::time::Instant::now();
            let outcome = match &spec.probe {
                Probe::Heartbeat { period, .. } => self.heartbeat_outcome(ci, ki, spec, *period),
                _ => {
                    let _permit = self.limit.acquire().await.expect("semaphore open");
                    probe::run(spec, &self.http, &self.data_dir).await
                }
            };
            if !*self.active.borrow() {
                continue; // stopped leading while checking: not this instance's result
            }
            self.record(ci, ki, spec, outcome);
            // The first round is reported together by `start`; later results at once (the
            // engine decides whether they are pushed now or with the next detail refresh).
            // A first result that comes after `start` stopped waiting is reported at once too
            // (not at the next run, an interval later).
            let told_start = first_done.take().is_some_and(|tx| tx.send(()).is_ok());
            if !told_start {
                self.report(ci).await;
            }
            let jitter = if spec.jitter.is_zero() {
                Duration::ZERO
            } else {
                Duration::from_millis(fastrand::u64(0..=spec.jitter.as_millis() as u64))
            };
            tokio::time::sleep_until(started + period + jitter).await;
        }
    }

    /// Stores a result (through the damper). In the history, a failure while the component
    /// is in a maintenance window counts as maintenance: planned work is not downtime.
    fn record(&self, ci: usize, ki: usize, spec: &CheckSpec, outcome: Outcome) {
        let now = now_ms();
        let id = &self.components[ci].id;
        let in_maintenance = outcome.level != Level::Operational
            && self.engine.hub().current().snapshot.maintenance.iter().any(|w| w.active_at(now) && w.components.contains(id));
        let row = ResultRow {
            component: id.clone(),
            at_ms: now,
            level: if in_maintenance { Level::UnderMaintenance } else { outcome.level },
            latency_ms: outcome.latency.map(|d| d.as_millis().min(u32::MAX as u128) as u32),
        };
        if !self.history.push(row) {
            tracing::warn!("history writer behind: a check result was not recorded");
        }
        let mut st = self.state[ci][ki].lock().unwrap();
        st.damper.observe(outcome.level, spec.failure_threshold, spec.success_threshold);
        st.checked_at_ms = now;
        st.last = Some(outcome);
    }

    fn heartbeat_outcome(&self, ci: usize, ki: usize, spec: &CheckSpec, period: Duration) -> Outcome {
        let st = self.state[ci][ki].lock().unwrap();
        let since = st.last_beat.unwrap_or(self.started);
        let age = since.elapsed();
        match (st.last_beat, age <= period) {
            (Some(_), true) => {
                Outcome { level: Level::Operational, reason: format!("last beat {} ago", short(age)), latency: None }
            }
            (None, true) => Outcome {
                level: Level::Operational,
                reason: format!("waiting for the first beat (due within {})", short(period)),
                latency: None,
            },
            (Some(_), false) => Outcome {
                level: spec.failure_level,
                reason: format!("no beat for {} (expected every {})", short(age), short(period)),
                latency: None,
            },
            (None, false) => Outcome {
                level: spec.failure_level,
                reason: format!("no beat since start {} ago (expected every {})", short(age), short(period)),
                latency: None,
            },
        }
    }

    /// Whether `token` belongs to one of `component`'s heartbeat checks (nothing recorded).
    pub fn verify_heartbeat(&self, component: &str, token: &str) -> Result<(), HeartbeatError> {
        let ci = self.components.iter().position(|c| c.id == component).ok_or(HeartbeatError::UnknownComponent)?;
        let mut any = false;
        for spec in &self.components[ci].checks {
            if let Probe::Heartbeat { token: expected, .. } = &spec.probe {
                any = true;
                if crate::server::secret::same_secret(expected.as_bytes(), token.as_bytes()) {
                    return Ok(());
                }
            }
        }
        Err(if any { HeartbeatError::BadToken } else { HeartbeatError::UnknownComponent })
    }

    /// Records a beat of `component` at `at_ms` (received by any instance and stored), if it
    /// is newer than the last one this runner has: every heartbeat check of the component
    /// counts it (their tokens were checked where it was received).
    pub async fn beat_at(&self, component: &str, at_ms: i64) {
        let Some(ci) = self.components.iter().position(|c| c.id == component) else { return };
        let age = Duration::from_millis((now_ms() - at_ms).max(0) as u64);
        let mut any = false;
        for (ki, spec) in self.components[ci].checks.iter().enumerate() {
            if let Probe::Heartbeat { period, .. } = &spec.probe {
                {
                    let mut st = self.state[ci][ki].lock().unwrap();
                    if st.last_beat_ms >= at_ms {
                        continue;
                    }
                    st.last_beat_ms = at_ms;
                    st.last_beat = Some(Instant::now().checked_sub(age).unwrap_or_else(Instant::now));
                }
                any = true;
                let outcome = self.heartbeat_outcome(ci, ki, spec, *period);
                self.record(ci, ki, spec, outcome);
            }
        }
        if any {
            self.report(ci).await;
        }
    }

    /// Records a beat for `component` if `token` belongs to one of its heartbeat checks.
    pub async fn heartbeat(&self, component: &str, token: &str) -> Result<(), HeartbeatError> {
        let ci = self.components.iter().position(|c| c.id == component).ok_or(HeartbeatError::UnknownComponent)?;
        let mut any = false;
        let mut matched = false;
        for (ki, spec) in self.components[ci].checks.iter().enumerate() {
            if let Probe::Heartbeat { token: expected, period } = &spec.probe {
                any = true;
                if crate::server::secret::same_secret(expected.as_bytes(), token.as_bytes()) {
                    matched = true;
                    {
                        let mut st = self.state[ci][ki].lock().unwrap();
                        st.last_beat = Some(Instant::now());
                        st.last_beat_ms = now_ms();
                    }
                    let outcome = self.heartbeat_outcome(ci, ki, spec, *period);
                    self.record(ci, ki, spec, outcome);
                }
            }
        }
        if !any {
            return Err(HeartbeatError::UnknownComponent);
        }
        if !matched {
            return Err(HeartbeatError::BadToken);
        }
        self.report(ci).await;
        Ok(())
    }

    fn component_status(&self, ci: usize) -> ComponentStatus {
        let c = &self.components[ci];
        let states: Vec<_> = self.state[ci].iter().map(|s| s.lock().unwrap()).collect();
        let levels: Vec<Option<Level>> = states.iter().map(|s| s.damper.shown()).collect();
        let worst = levels.iter().flatten().max().copied();
        let mut reasons = Vec::new();
        for (s, l) in states.iter().zip(&levels) {
            if *l == worst {
                if let Some(o) = &s.last {
                    reasons.push(o.reason.clone());
                }
            }
        }
        let latency = states.iter().filter_map(|s| s.last.as_ref()?.latency).max();
        ComponentStatus {
            id: c.id.clone(),
            name: c.name.clone(),
            group: c.group.clone(),
            level: worst.unwrap_or(Level::Operational),
            reason: if worst.is_none() { "waiting for the first check".into() } else { reasons.join("; ") },
            since_ms: 0,
            checked_at_ms: states.iter().map(|s| s.checked_at_ms).max().unwrap_or(0),
            latency_ms: latency.map(|d| d.as_millis().min(u32::MAX as u128) as u32),
        }
    }

    async fn report(&self, ci: usize) {
        if *self.stop.borrow() {
            return; // replaced by a reloaded configuration
        }
        let status = self.component_status(ci);
        if let Err(e) = self.engine.report_components(vec![status]).await {
            tracing::error!("check result not recorded: {e}");
        }
    }
}

fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{} ms", d.as_millis()),
        1..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}
