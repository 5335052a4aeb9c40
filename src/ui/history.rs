//! `/history`: resolved incidents, most recently resolved first, a page at a time.

use super::cards::IncidentCard;
use crate::model::{component_names, duration_text, utc_minute, ComponentStatus, Incident};
use leptos::prelude::*;

/// One page of the incident history.
#[derive(Clone, Debug, Default)]
pub struct HistoryPage {
    pub incidents: Vec<Incident>,
    /// Current components, to name the affected ones (an id, for one since removed).
    pub components: Vec<ComponentStatus>,
    /// `(resolved_ms, id)` of the last incident shown, when there are older ones.
    pub older: Option<(i64, i64)>,
    /// The store could not be read.
    pub failed: bool,
}

/// What the history says about one resolved incident.
pub fn resolved_meta(i: &Incident, components: &[ComponentStatus]) -> String {
    let mut meta = format!("Impact: {} · started {}", i.impact.as_str(), utc_minute(i.started_ms));
    if let Some(r) = i.resolved_ms {
        meta.push_str(&format!(" · resolved {} after {}", utc_minute(r), duration_text(r - i.started_ms)));
    }
    if !i.components.is_empty() {
        meta.push_str(&format!(" · affected: {}", component_names(components, &i.components)));
    }
    meta
}

#[component]
pub fn IncidentHistory(page: HistoryPage) -> impl IntoView {
    let HistoryPage { incidents, components, older, failed } = page;
    let empty = (incidents.is_empty() && !failed).then(|| view! { <p class="empty">"No resolved incidents."</p> });
    let error = failed.then(|| view! { <p class="error">"The incident history could not be read; try again."</p> });
    let cards = incidents
        .into_iter()
        .map(|i| {
            let meta = resolved_meta(&i, &components);
            view! { <IncidentCard incident=i meta/> }
        })
        .collect_view();
    let older = older.map(|(before, id)| {
        view! {
            <p>
                <a class="older" href=format!("/history?before={before}&before_id={id}")>"Older incidents"</a>
            </p>
        }
    });
    view! {
        <h1>"Incident history"</h1>
        {error}
        {empty}
        {cards}
        {older}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Impact, IncidentStatus};

    #[test]
    fn a_resolved_incident_says_when_and_for_how_long() {
        let i = Incident {
            id: 9,
            title: "x".into(),
            impact: Impact::Minor,
            components: vec!["api".into()],
            status: IncidentStatus::Resolved,
            started_ms: 0,
            resolved_ms: Some(65 * 60_000),
            updates: vec![],
        };
        let meta = resolved_meta(&i, &[ComponentStatus::named("api", "<api>")]);
        assert_eq!(
            meta,
            "Impact: minor · started 1970-01-01 00:00 UTC · resolved 1970-01-01 01:05 UTC after 1 h 5 min · affected: <api>"
        );
    }
}
