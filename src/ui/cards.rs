//! One component per visual thing that appears on several pages: an incident (live status
//! page, incident history, admin dashboard) and a maintenance window (live status page,
//! admin dashboard). Every piece of text goes through `view!`, so Leptos escapes it.

use crate::model::{utc_minute, Incident, IncidentUpdate, MaintenanceWindow};
use leptos::prelude::*;

/// An incident with its timeline. `meta` is the line under the title (what the page says
/// about it); `children`, what the page adds below (the admin area's update form).
#[component]
pub fn IncidentCard<M: IntoView + 'static>(
    incident: Incident,
    meta: M,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let Incident { id, title, impact, updates, .. } = incident;
    view! {
        <article class=format!("incident impact-{}", impact.as_str()) id=format!("incident-{id}") data-incident=id>
            <h2>{title}</h2>
            <p class="incident-meta">{meta}</p>
            <ol class="timeline">{updates.into_iter().map(timeline_entry).collect_view()}</ol>
            {children.map(|c| c())}
        </article>
    }
}

fn timeline_entry(u: IncidentUpdate) -> impl IntoView {
    view! {
        <li>
            <strong>{u.status.label()}</strong>
            " "
            <span class="update-message">{u.message}</span>
            " "
            <time>{utc_minute(u.at_ms)}</time>
        </li>
    }
}

/// A maintenance window: title, then `meta` (when, which components), then `children`.
#[component]
pub fn MaintenanceCard<M: IntoView + 'static>(
    window: MaintenanceWindow,
    meta: M,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <article class="incident maintenance" id=format!("maintenance-{}", window.id) data-maintenance=window.id>
            <h2>{window.title}</h2>
            <p class="incident-meta">{meta}</p>
            {children.map(|c| c())}
        </article>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::model::{Impact, IncidentStatus};

    #[test]
    fn an_incident_card_escapes_everything() {
        let i = Incident {
            id: 9,
            title: "<img src=x onerror=alert(1)>".into(),
            impact: Impact::Minor,
            components: vec![],
            status: IncidentStatus::Resolved,
            started_ms: 0,
            resolved_ms: Some(65 * 60_000),
            updates: vec![
                IncidentUpdate { at_ms: 65 * 60_000, status: IncidentStatus::Resolved, message: "fixed & \"done\"".into() },
                IncidentUpdate { at_ms: 0, status: IncidentStatus::Investigating, message: "<script>".into() },
            ],
        };
        let html = view! { <IncidentCard incident=i meta="affected: <api>"/> }.to_html();
        assert!(!html.contains("<img") && !html.contains("<script>") && !html.contains("<api>"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
        assert_eq!(html.matches("<li>").count(), 2);
        assert!(html.contains("1970-01-01 01:05 UTC"));
    }
}
