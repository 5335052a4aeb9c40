//! The status page's history: a 90-day uptime bar per component (one bar per UTC day,
//! coloured by the day's worst level, with a tooltip) and a response-time chart of the last
//! 24 hours. Computed here from the store into a [`HistoryView`], drawn by
//! [`crate::ui::uptime::UptimeHistory`] on the server. No code for them ships to the browser.
//!
//! Uptime counts only time with check results: a day (or part of one) when statuscast was
//! not running is unknown, shown grey and left out of the percentage, never counted as up.
//!
//! Building it costs a few queries, so the view is rebuilt once a minute (history changes by
//! the minute) and every page view reuses it.

use crate::model::duration_text;
use crate::model::{ComponentStatus, Incident};
use crate::server::clock::now_ms;
use crate::server::domain::engine::Engine;
use crate::server::store::{Bucket, Span, StoreError};
use crate::ui::uptime::{ComponentHistory, DayBar, DrawnHistory, HistoryView, LatencyChart};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub const DAYS: i64 = crate::ui::uptime::DAYS as i64;
/// Components that get bars and charts on the page (in their order on the page); the
/// history of any component is also at `/api/v1/history/<id>`. Beyond this, a page would
/// carry megabytes of SVG.
pub const MAX_COMPONENTS: usize = 100;
const DAY_MS: i64 = 86_400_000;
/// Points of the response-time chart: 5-minute averages over 24 hours.
const CHART_STEP_MS: i64 = 5 * 60_000;
const CHART_POINTS: i64 = 24 * 60 / 5;

/// The history, drawn, shared by every page view.
#[derive(Default)]
pub struct HistoryCache {
    /// The drawing, and how many drawings came before it (pages rendered from it are cached
    /// per drawing, see `render_cache`).
    drawn: RwLock<(DrawnHistory, u64)>,
}

impl HistoryCache {
    pub fn drawn(&self) -> DrawnHistory {
        self.drawn.read().expect("not poisoned").0.clone()
    }

    /// The drawing and its number.
    pub fn drawing(&self) -> (DrawnHistory, u64) {
        self.drawn.read().expect("not poisoned").clone()
    }

    /// Renders the history of the engine's current components anew.
    pub async fn refresh(&self, engine: &Engine) -> Result<(), StoreError> {
        let now = now_ms();
        let components = engine.hub().current().snapshot.components.clone();
        let shown = &components[..components.len().min(MAX_COMPONENTS)];
        let ids: Vec<String> = shown.iter().map(|c| c.id.clone()).collect();
        let store = engine.store();
        let days = store.history_of(&ids, Span::Day, first_day(now), DAY_MS).await?;
        // Response times only for components whose checks measure one.
        let timed: Vec<String> = shown.iter().filter(|c| c.latency_ms.is_some()).map(|c| c.id.clone()).collect();
        let minutes = store.history_of(&timed, Span::Minute, now - 24 * 3_600_000, CHART_STEP_MS).await?;
        let incidents = store.incidents_since(first_day(now)).await?;
        let drawn = DrawnHistory::draw(Arc::new(build(&components, &days, &minutes, &incidents, now)));
        let mut held = self.drawn.write().expect("not poisoned");
        *held = (drawn, held.1 + 1);
        Ok(())
    }

    /// Renders now, again in two seconds (the first check results are written by then), and
    /// then every minute.
    pub fn spawn(self: Arc<Self>, engine: Arc<Engine>) {
        tokio::spawn(async move {
            let refresh = || async {
                if let Err(e) = self.refresh(&engine).await {
                    tracing::error!("rendering the history failed: {e}");
                }
            };
            refresh().await;
            let first = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
            let mut ticker = tokio::time::interval_at(first, std::time::Duration::from_secs(60));
            loop {
                ticker.tick().await;
                refresh().await;
            }
        });
    }
}

fn today_start(now: i64) -> i64 {
    now - now.rem_euclid(DAY_MS)
}

/// The start of the first of the `DAYS` bars.
fn first_day(now: i64) -> i64 {
    today_start(now) - (DAYS - 1) * DAY_MS
}

/// Uptime over the buckets with data: `(percent, days with data)`; `None` without data.
pub fn uptime(days: &[Bucket]) -> Option<(f64, usize)> {
    let samples: i64 = days.iter().map(|b| b.samples).sum();
    let ok: i64 = days.iter().map(|b| b.operational).sum();
    (samples > 0).then(|| (100.0 * ok as f64 / samples as f64, days.iter().filter(|b| b.samples > 0).count()))
}

/// How much of the window (from `first` to `now`) had check results, in words; `None` when a
/// day with results predates minute counting.
pub fn coverage(days: &[Bucket], first: i64, now: i64) -> Option<String> {
    if days.iter().any(|b| b.samples > 0 && b.minutes == 0) {
        return None;
    }
    let covered: i64 = days.iter().filter(|b| b.start_ms >= first).map(|b| b.minutes).sum();
    let window = ((now - first) / 60_000).max(1);
    Some(if covered * 100 >= window {
        format!("checked {} % of the time", percent(100.0 * covered as f64 / window as f64))
    } else {
        format!("checked for {} so far", duration_text(covered * 60_000))
    })
}

/// `99.95`, `100`, `87.3`: two decimals, trailing zeros dropped, never rounded up to 100.
pub fn percent(p: f64) -> String {
    let floored = (p * 100.0).floor() / 100.0;
    let s = format!("{floored:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The history section for `components` (the first `MAX_COMPONENTS` get bars).
pub fn build(
    components: &[ComponentStatus],
    days: &HashMap<String, Vec<Bucket>>,
    minutes: &HashMap<String, Vec<Bucket>>,
    incidents: &[Incident],
    now: i64,
) -> HistoryView {
    let empty = Vec::new();
    let rows = components
        .iter()
        .take(MAX_COMPONENTS)
        .map(|c| {
            let d = days.get(&c.id).unwrap_or(&empty);
            let m = minutes.get(&c.id).unwrap_or(&empty);
            // Incidents that name this component, or name none (they concern everything).
            let own: Vec<&Incident> =
                incidents.iter().filter(|i| i.components.is_empty() || i.components.contains(&c.id)).collect();
            component_history(c, d, m, &own, now)
        })
        .collect();
    HistoryView { rows, total: components.len(), max_rows: MAX_COMPONENTS }
}

fn component_history(
    c: &ComponentStatus,
    days: &[Bucket],
    minutes: &[Bucket],
    incidents: &[&Incident],
    now: i64,
) -> ComponentHistory {
    let first = first_day(now);
    let summary = match (uptime(days), coverage(days, first, now)) {
        (None, _) => "no data yet".to_string(),
        (Some((p, _)), Some(covered)) => format!("{} % uptime · {covered}", percent(p)),
        (Some((p, n)), None) => format!("{} % uptime over {n} day{} with data", percent(p), if n == 1 { "" } else { "s" }),
    };
    let mut by_day = days.iter().peekable();
    let bars = (0..DAYS)
        .map(|i| {
            let start = first + i * DAY_MS;
            while by_day.peek().is_some_and(|b| b.start_ms < start) {
                by_day.next();
            }
            let bucket = by_day.peek().filter(|b| b.start_ms == start && b.samples > 0);
            day_bar(start, bucket.copied(), incidents, now)
        })
        .collect();
    ComponentHistory { id: c.id.clone(), name: c.name.clone(), summary, days: bars, chart: response_chart(minutes, now) }
}

/// One day's bar: its level (or unknown) and its tooltip.
fn day_bar(start: i64, bucket: Option<&Bucket>, incidents: &[&Incident], now: i64) -> DayBar {
    let date = &crate::server::clock::rfc3339(start)[..10];
    let during: Vec<String> = incidents
        .iter()
        .filter(|inc| inc.started_ms < start + DAY_MS && inc.resolved_ms.unwrap_or(now) >= start)
        .map(|inc| format!("{} ({})", inc.title, inc.impact.as_str()))
        .collect();
    let (level, mut tip) = match bucket {
        None => ("unknown".to_string(), format!("{date}: no data (nothing was checked)")),
        Some(b) => (
            b.worst_level.as_str().to_string(),
            format!(
                "{date}: {} % of {} checks OK; worst: {}{}",
                percent(100.0 * b.operational as f64 / b.samples as f64),
                b.samples,
                b.worst_level.label(),
                // Said only for days checked for less than all of their (elapsed) time.
                match b.minutes {
                    0 => String::new(),
                    m if m >= ((now - start) / 60_000).min(1440) - 5 => String::new(),
                    m => format!("; checked during {} of the day only", duration_text(m * 60_000)),
                }
            ),
        ),
    };
    if !during.is_empty() {
        tip.push_str(&format!(" · incidents: {}", during.join("; ")));
    }
    DayBar { level, tip }
}

/// The last 24 hours as polylines (broken where there is no data), from the store's
/// 5-minute buckets (`CHART_STEP_MS`), one point each.
fn response_chart(steps: &[Bucket], now: i64) -> Option<LatencyChart> {
    let end = now - now.rem_euclid(CHART_STEP_MS) + CHART_STEP_MS;
    let start = end - CHART_POINTS * CHART_STEP_MS;
    let mut points: Vec<Option<f64>> = vec![None; CHART_POINTS as usize];
    let mut max_ms = 0i64;
    for b in steps.iter().filter(|b| b.start_ms >= start && b.start_ms < end) {
        if let (Some(avg), Some(max)) = (b.latency_avg_ms, b.latency_max_ms) {
            points[((b.start_ms - start) / CHART_STEP_MS) as usize] = Some(avg);
            max_ms = max_ms.max(max);
        }
    }
    let known: Vec<f64> = points.iter().flatten().copied().collect();
    if known.is_empty() {
        return None;
    }
    let avg_ms = known.iter().sum::<f64>() / known.len() as f64;
    let top_ms = known.iter().copied().fold(1.0_f64, f64::max) * 1.1;
    let (width, height) = (CHART_POINTS as f64 * 2.0, 60.0);
    let mut lines = Vec::new();
    let mut line = String::new();
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => line.push_str(&format!("{:.0},{:.1} ", i as f64 * 2.0 + 1.0, height - v / top_ms * height)),
            None if !line.is_empty() => lines.push(std::mem::take(&mut line).trim_end().to_string()),
            None => {}
        }
    }
    if !line.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    Some(LatencyChart { avg_ms, max_ms, top_ms, lines, width, height })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;

    fn bucket(start_ms: i64, samples: i64, operational: i64, worst: Level) -> Bucket {
        Bucket {
            start_ms,
            samples,
            operational,
            worst_level: worst,
            latency_avg_ms: Some(40.0),
            latency_max_ms: Some(90),
            minutes: 0,
        }
    }

    /// The history section as a page shows it.
    fn render(
        components: &[ComponentStatus],
        days: &HashMap<String, Vec<Bucket>>,
        minutes: &HashMap<String, Vec<Bucket>>,
        incidents: &[Incident],
        now: i64,
    ) -> String {
        use leptos::prelude::*;
        let history = Arc::new(build(components, days, minutes, incidents, now));
        view! { <crate::ui::uptime::UptimeHistory history/> }.to_html()
    }

    fn component(id: &str) -> ComponentStatus {
        ComponentStatus::named(id, &format!("<b>{id}</b>"))
    }

    #[test]
    fn unknown_time_is_not_uptime() {
        assert_eq!(uptime(&[]), None);
        let days = [bucket(0, 100, 100, Level::Operational), bucket(DAY_MS, 100, 50, Level::MajorOutage)];
        assert_eq!(uptime(&days), Some((75.0, 2)));
        assert_eq!(percent(99.999), "99.99", "never rounds up to 100");
        assert_eq!(percent(100.0), "100");
        assert_eq!(percent(87.3), "87.3");
    }

    #[test]
    fn coverage_says_how_much_of_the_window_was_checked() {
        let first = 0;
        let mut a = bucket(0, 10, 10, Level::Operational);
        a.minutes = 45 * 1440;
        let now = 90 * DAY_MS;
        assert_eq!(coverage(&[a.clone()], first, now).as_deref(), Some("checked 50 % of the time"));
        a.minutes = 90;
        assert_eq!(coverage(&[a.clone()], first, now).as_deref(), Some("checked for 1 h 30 min so far"));
        a.minutes = 0;
        assert_eq!(coverage(&[a], first, now), None, "not known for days counted before minutes were");
    }

    #[test]
    fn renders_90_bars_with_unknown_days_grey_and_escaped_names() {
        let now = 20_000 * DAY_MS + 3_600_000;
        let today = today_start(now);
        let mut days = HashMap::new();
        let mut yesterday = bucket(today - DAY_MS, 2880, 2870, Level::PartialOutage);
        yesterday.minutes = 120;
        let mut so_far = bucket(today, 120, 120, Level::Operational);
        so_far.minutes = 60; // the whole hour of today so far
        days.insert("api".to_string(), vec![yesterday, so_far]);
        let mut minutes = HashMap::new();
        minutes.insert("api".to_string(), vec![bucket(now - 120_000, 2, 2, Level::Operational)]);
        let incident = Incident {
            id: 1,
            title: "API <down>".into(),
            impact: crate::model::Impact::Major,
            components: vec!["api".into()],
            status: crate::model::IncidentStatus::Resolved,
            started_ms: today - DAY_MS + 60_000,
            resolved_ms: Some(today - DAY_MS + 120_000),
            updates: vec![],
        };
        let html = render(&[component("api"), component("db")], &days, &minutes, &[incident], now);
        assert_eq!(html.matches("<rect").count(), 180, "90 bars per component");
        assert_eq!(html.matches("level-unknown").count(), 88 + 90);
        assert!(html.contains("class=\"day level-partial_outage\""));
        assert!(html.contains("2024-10-03: 99.65 % of 2880 checks OK; worst: Partial outage; checked during 2 h 0 min of the day only · incidents: API &lt;down&gt; (major)"));
        assert!(html.contains("2024-10-04: 100 % of 120 checks OK; worst: Operational</title>"), "today, checked all along");
        assert_eq!(html.matches("incidents:").count(), 1, "only that day, only that component");
        assert!(html.contains("99.66 % uptime · checked for 3 h 0 min so far"), "{}", &html[..400]);
        assert!(html.contains("no data yet"));
        assert!(html.contains("&lt;b&gt;api&lt;/b&gt;") && !html.contains("<b>"), "names are escaped");
        assert!(html.contains("<polyline points=\""), "the response-time chart has a line");
        assert_eq!(html.matches("class=\"latency\"").count(), 1, "no chart without latencies");

        let many: Vec<ComponentStatus> = (0..MAX_COMPONENTS + 5).map(|i| component(&format!("c{i}"))).collect();
        let html = render(&many, &HashMap::new(), &HashMap::new(), &[], now);
        assert_eq!(html.matches("class=\"uptime-row\"").count(), MAX_COMPONENTS);
        assert!(html.contains(&format!("the first {MAX_COMPONENTS} of {} components", MAX_COMPONENTS + 5)));
    }
}
