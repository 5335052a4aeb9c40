//! The status page: every component with its level and reason, grouped, live.

use super::live::LiveStatus;
use crate::status::{ago, ComponentStatus, Level};
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
pub fn StatusPage() -> impl IntoView {
    let live = LiveStatus::expect();
    let snap = live.snapshot;
    let groups = Memo::new(move |_| snap.with(|s| grouped(&s.components)));
    let operator = Memo::new(move |_| snap.with(|s| s.operator_override.clone()));

    view! {
        <h1>"System status"</h1>
        <Show when=move || operator.with(Option::is_some)>
            <p class="override-note">
                "An operator set the overall status "
                {move || operator.with(|o| o.as_ref().map(|o| ago(o.set_at_ms, live.now_ms.get())))}
                "."
            </p>
        </Show>
        <For
            each=move || groups.get()
            key=|(name, _)| name.clone()
            children=move |(name, _)| {
                let name_for_list = name.clone();
                let components = Memo::new(move |_| {
                    groups.with(|gs| {
                        gs.iter()
                            .find(|(g, _)| *g == name_for_list)
                            .map(|(_, cs)| cs.clone())
                            .unwrap_or_default()
                    })
                });
                view! {
                    <section class="component-group">
                        <h2>{name}</h2>
                        <ul class="components">
                            <For
                                each=move || components.get()
                                key=|c| c.id.clone()
                                children=move |c| view! { <ComponentRow id=c.id/> }
                            />
                        </ul>
                    </section>
                }
            }
        />
    }
}

#[component]
fn ComponentRow(id: String) -> impl IntoView {
    let live = LiveStatus::expect();
    let snap = live.snapshot;
    let component = Memo::new(move |_| snap.with(|s| s.components.iter().find(|c| c.id == id).cloned()));
    let field = move |f: fn(&ComponentStatus) -> String| move || component.with(|c| c.as_ref().map(f).unwrap_or_default());
    let level = move || component.with(|c| c.as_ref().map_or(Level::Operational, |c| c.level));

    view! {
        <li
            class=move || format!("component level-{}", level().as_str())
            data-component=field(|c| c.id.clone())
            data-level=move || level().as_str()
        >
            <span class="component-icon" aria-hidden="true">{move || level().icon()}</span>
            <span class="component-name">{field(|c| c.name.clone())}</span>
            <span class="component-level">{move || level().label()}</span>
            <span class="component-reason">{field(|c| c.reason.clone())}</span>
            <span class="component-since">
                {move || {
                    let since = component.with(|c| c.as_ref().map(|c| c.since_ms).unwrap_or(0));
                    format!("changed {}", ago(since, live.now_ms.get()))
                }}
            </span>
        </li>
    }
}
