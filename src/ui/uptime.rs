//! The status page's history, drawn on the server as SVG: a 90-day uptime bar per component
//! and a response-time chart of the last 24 hours. Static: no code for it ships to the
//! browser. The server computes a [`HistoryView`] once a minute (`server::http::uptime`) and
//! draws it here, through `view!`, so every name and tooltip is escaped; drawing 100
//! components' bars takes tens of milliseconds, so it is drawn once a minute too
//! ([`DrawnHistory`]) and every page view reuses what `view!` wrote.

use leptos::prelude::*;
use std::sync::Arc;

pub const DAYS: usize = 90;

/// What the history section shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryView {
    /// The components that get bars (at most `MAX_COMPONENTS`), in page order.
    pub rows: Vec<ComponentHistory>,
    /// How many components there are in all.
    pub total: usize,
    /// The most components drawn.
    pub max_rows: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComponentHistory {
    pub id: String,
    pub name: String,
    /// "99.9 % uptime · checked 87 % of the time", or "no data yet".
    pub summary: String,
    /// Oldest first, `DAYS` of them.
    pub days: Vec<DayBar>,
    pub chart: Option<LatencyChart>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DayBar {
    /// A level (`operational`, ...) or `unknown`.
    pub level: String,
    pub tip: String,
}

/// The last 24 hours of response times, 5-minute averages.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyChart {
    pub avg_ms: f64,
    pub max_ms: i64,
    pub top_ms: f64,
    /// SVG polyline point lists, one per stretch with data.
    pub lines: Vec<String>,
    pub width: f64,
    pub height: f64,
}

/// The history as [`UptimeHistory`] drew it: HTML written by `view!`, kept for a minute.
#[derive(Clone, Debug, Default)]
pub struct DrawnHistory(Arc<str>);

impl DrawnHistory {
    /// Draws `history` (empty without components).
    #[cfg(feature = "ssr")]
    pub fn draw(history: Arc<HistoryView>) -> DrawnHistory {
        if history.rows.is_empty() {
            return DrawnHistory::default();
        }
        DrawnHistory(view! { <UptimeHistory history/> }.to_html().into())
    }

    pub fn html(&self) -> &str {
        &self.0
    }
}

/// The drawn history in a page: an inert element (Leptos' own form for static HTML it wrote).
#[component]
pub fn DrawnUptime(drawn: DrawnHistory) -> impl IntoView {
    (!drawn.0.is_empty()).then(|| leptos::tachys::html::InertElement::new(drawn.0.to_string()))
}

#[component]
pub fn UptimeHistory(history: Arc<HistoryView>) -> impl IntoView {
    if history.rows.is_empty() {
        return None;
    }
    let more = (history.total > history.rows.len()).then(|| {
        view! {
            <p class="empty">
                {format!("History is shown for the first {} of {} components; every component's is at ", history.max_rows, history.total)}
                <code>"/api/v1/history/<id>"</code>
                "."
            </p>
        }
    });
    let rows = history.rows.iter().map(|row| view! { <UptimeRow row=row.clone()/> }).collect_view();
    Some(view! {
        <section class="uptime">
            <h2>"Uptime, last 90 days (UTC days)"</h2>
            {rows}
            {more}
        </section>
    })
}

#[component]
fn UptimeRow(row: ComponentHistory) -> impl IntoView {
    let label = format!("{}: {}", row.name, row.summary);
    let bars = row
        .days
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            view! {
                <rect x=i * 6 width="4" height="34" class=format!("day level-{}", d.level)>
                    <title>{d.tip}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <div class="uptime-row" data-history=row.id>
            <div class="uptime-head">
                <span class="uptime-name">{row.name}</span>
                <span class="uptime-pct">{row.summary}</span>
            </div>
            <svg
                class="uptime-bars"
                viewBox=format!("0 0 {} 34", DAYS * 6)
                preserveAspectRatio="none"
                role="img"
                aria-label=label
            >
                {bars}
            </svg>
            <div class="uptime-axis">
                <span>"90 days ago"</span>
                <span>"today"</span>
            </div>
            {row.chart.map(|chart| view! { <ResponseChart chart/> })}
        </div>
    }
}

#[component]
fn ResponseChart(chart: LatencyChart) -> impl IntoView {
    view! {
        <details class="latency">
            <summary>
                {format!("Response time, last 24 h: average {:.0} ms, slowest check {} ms", chart.avg_ms, chart.max_ms)}
            </summary>
            <svg
                class="latency-chart"
                viewBox=format!("0 0 {} {}", chart.width, chart.height)
                preserveAspectRatio="none"
                role="img"
                aria-label="Response time over the last 24 hours, 5-minute averages"
            >
                {chart.lines.into_iter().map(|points| view! { <polyline points=points/> }).collect_view()}
            </svg>
            <div class="uptime-axis">
                <span>"24 h ago"</span>
                <span>{format!("{:.0} ms at the top", chart.top_ms)}</span>
                <span>"now"</span>
            </div>
        </details>
    }
}
