//! The status page: the live board (active incidents, maintenance, every component with its
//! level and reason, grouped) and, below it, the history (static, drawn on the server).

use super::cards::{IncidentCard, MaintenanceCard};
use super::fresh::Fresh;
use super::live::LiveStatus;
#[cfg(feature = "ssr")]
use super::uptime::{DrawnHistory, DrawnUptime};
use crate::model::{ago, component_names, until, ComponentStatus, Incident, MaintenanceWindow, Snapshot};
use leptos::prelude::*;

/// Components in groups, keeping the order in which groups first appear.
fn grouped(components: &[ComponentStatus]) -> Vec<(String, Vec<ComponentStatus>)> {
    let mut groups: Vec<(String, Vec<ComponentStatus>)> = Vec::new();
    for c in components {
        let name = c.group.clone().unwrap_or_else(|| "Components".into());
        match groups.iter_mut().find(|(g, _)| *g == name) {
            Some((_, list)) => list.push(c.clone()),
            None => groups.push((name, vec![c.clone()])),
        }
    }
    groups
}

#[cfg(feature = "ssr")]
#[component]
pub fn StatusPage(history: DrawnHistory, offer: super::subscribe::SubscribeOffer) -> impl IntoView {
    let form = (offer.email || offer.webhook).then(|| view! { <super::subscribe::SubscribeForm offer/> });
    view! {
        <h1>"System status"</h1>
        <LiveBoard/>
        <DrawnUptime drawn=history/>
        {form}
    }
}

/// What changes with the status: an island, following the page's [`LiveStatus`]. Drawn
/// whole in one reactive closure (see [`SystemStatus`](super::SystemStatus)): Leptos compares
/// each drawing with the last and touches only what differs.
#[island]
fn LiveBoard() -> impl IntoView {
    let live = LiveStatus::expect();
    Fresh(move || {
        let now = live.now_ms.get();
        live.snapshot.with(|s| board(s, now))
    })
}

fn board(s: &Snapshot, now: i64) -> impl IntoView {
    let names = |ids: &[String]| component_names(&s.components, ids);
    let operator = s.operator_override.as_ref().map(|o| {
        view! { <p class="override-note">"An operator set the overall status " {ago(o.set_at_ms, now)} "."</p> }
    });
    let incidents = s.incidents.iter().map(|i| incident_card(i.clone(), names(&i.components))).collect_view();
    let maintenance = s.maintenance.iter().map(|w| maintenance_card(w.clone(), names(&w.components), now)).collect_view();
    let groups = grouped(&s.components)
        .into_iter()
        .map(|(name, components)| {
            let rows = components.into_iter().map(|c| component_row(c, now)).collect_view();
            view! {
                <section class="component-group">
                    <h2>{name}</h2>
                    <ul class="components">{rows}</ul>
                </section>
            }
        })
        .collect_view();
    view! { {operator} {incidents} {maintenance} {groups} }
}

fn incident_card(i: Incident, affected: String) -> impl IntoView {
    let meta = format!(
        "Impact: {}{}",
        i.impact.as_str(),
        if affected.is_empty() { String::new() } else { format!(" · Affects {affected}") }
    );
    view! { <IncidentCard incident=i meta/> }
}

fn maintenance_card(w: MaintenanceWindow, affected: String, now: i64) -> impl IntoView {
    let (starts, ends) = (w.starts_ms, w.ends_ms);
    let when = if now < starts {
        format!("Scheduled maintenance, starts {} and lasts {} min", until(starts, now), (ends - starts) / 60_000)
    } else {
        format!("Maintenance in progress, ends {}", until(ends, now))
    };
    let meta = when + " · Affects " + &affected;
    view! { <MaintenanceCard window=w meta/> }
}

fn component_row(c: ComponentStatus, now: i64) -> impl IntoView {
    let since = match (c.checked_at_ms, c.latency_ms) {
        (0, _) => format!("changed {}", ago(c.since_ms, now)),
        (checked, Some(ms)) => format!("checked {} · {ms} ms", ago(checked, now)),
        (checked, None) => format!("checked {}", ago(checked, now)),
    };
    view! {
        <li
            class=format!("component level-{}", c.level.as_str())
            data-component=c.id
            data-level=c.level.as_str()
        >
            <span class="component-icon" aria-hidden="true">{c.level.icon()}</span>
            <span class="component-name">{c.name}</span>
            <span class="component-level">{c.level.label()}</span>
            <span class="component-reason">{c.reason}</span>
            <span class="component-since">{since}</span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, group: Option<&str>) -> ComponentStatus {
        ComponentStatus { group: group.map(Into::into), ..ComponentStatus::named(id, id) }
    }

    #[test]
    fn groups_keep_first_appearance_order() {
        let cs = [c("a", Some("Web")), c("b", None), c("c", Some("Web")), c("d", Some("Host"))];
        let g = grouped(&cs);
        let names: Vec<(&str, Vec<&str>)> =
            g.iter().map(|(n, l)| (n.as_str(), l.iter().map(|c| c.id.as_str()).collect())).collect();
        assert_eq!(names, vec![("Web", vec!["a", "c"]), ("Components", vec!["b"]), ("Host", vec!["d"])]);
    }
}
