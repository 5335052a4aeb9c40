//! The status page: the live board (active incidents, maintenance, every component with its
//! level and reason, grouped) and, below it, the history (static, drawn on the server).

use super::cards::{IncidentCard, MaintenanceCard};
use super::live::LiveStatus;
use super::uptime::{DrawnHistory, DrawnUptime};
use crate::model::{ago, component_names, until, ComponentStatus, Incident, MaintenanceWindow};
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

#[component]
pub fn StatusPage(history: DrawnHistory) -> impl IntoView {
    view! {
        <h1>"System status"</h1>
        <LiveBoard/>
        <DrawnUptime drawn=history/>
    }
}

/// What changes with the status: an island, following the page's [`LiveStatus`].
#[island]
fn LiveBoard() -> impl IntoView {
    let live = LiveStatus::expect();
    let snap = live.snapshot;
    // Rebuilt when any component changes (a handful of rows; no keyed diffing shipped).
    let groups = Memo::new(move |_| snap.with(|s| grouped(&s.components)));
    let operator = Memo::new(move |_| snap.with(|s| s.operator_override.as_ref().map(|o| o.set_at_ms)));
    let incidents = Memo::new(move |_| snap.with(|s| s.incidents.clone()));
    let maintenance = Memo::new(move |_| snap.with(|s| s.maintenance.clone()));
    let names = move |ids: &[String]| snap.with_untracked(|s| component_names(&s.components, ids));

    view! {
        {move || {
            operator.get().map(|at| {
                view! {
                    <p class="override-note">
                        "An operator set the overall status "
                        {move || ago(at, live.now_ms.get())}
                        "."
                    </p>
                }
            })
        }}
        {move || incidents.get().into_iter().map(move |i| incident_card(i, names)).collect_view()}
        {move || maintenance.get().into_iter().map(move |w| maintenance_card(w, names)).collect_view()}
        {move || {
            groups
                .get()
                .into_iter()
                .map(|(name, components)| {
                    view! {
                        <section class="component-group">
                            <h2>{name}</h2>
                            <ul class="components">
                                {components.into_iter().map(component_row).collect_view()}
                            </ul>
                        </section>
                    }
                })
                .collect_view()
        }}
    }
}

fn incident_card(i: Incident, names: impl Fn(&[String]) -> String) -> impl IntoView {
    let affected = names(&i.components);
    let meta = format!(
        "Impact: {}{}",
        i.impact.as_str(),
        if affected.is_empty() { String::new() } else { format!(" · Affects {affected}") }
    );
    view! { <IncidentCard incident=i meta/> }
}

fn maintenance_card(w: MaintenanceWindow, names: impl Fn(&[String]) -> String) -> impl IntoView {
    let live = LiveStatus::expect();
    let (starts, ends) = (w.starts_ms, w.ends_ms);
    let affects = format!(" · Affects {}", names(&w.components));
    let meta = move || {
        let now = live.now_ms.get();
        let when = if now < starts {
            format!("Scheduled maintenance, starts {} and lasts {} min", until(starts, now), (ends - starts) / 60_000)
        } else {
            format!("Maintenance in progress, ends {}", until(ends, now))
        };
        when + &affects
    };
    view! { <MaintenanceCard window=w meta/> }
}

fn component_row(c: ComponentStatus) -> impl IntoView {
    let live = LiveStatus::expect();
    let since = c.since_ms;
    let checked = c.checked_at_ms;
    let latency = c.latency_ms.map(|ms| format!("{ms} ms"));
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
            <span class="component-since">
                {move || {
                    let now = live.now_ms.get();
                    match (checked, &latency) {
                        (0, _) => format!("changed {}", ago(since, now)),
                        (_, Some(l)) => format!("checked {} · {l}", ago(checked, now)),
                        (_, None) => format!("checked {}", ago(checked, now)),
                    }
                }}
            </span>
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
