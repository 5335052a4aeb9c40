//! The admin area (server-rendered; works without JavaScript): the login form, or the
//! dashboard with forms to post incident updates, open an incident, and schedule or cancel
//! maintenance. Every form carries the session's CSRF token and posts to `/admin/...`; a
//! refused form comes back with its error and the values typed (escaped by `view!`).

use super::cards::{IncidentCard, MaintenanceCard};
use crate::model::{component_names, utc_minute, ComponentStatus, Impact, Incident, IncidentStatus, MaintenanceWindow};
use leptos::either::EitherOf3;
use leptos::prelude::*;

/// What the page says above the forms, and the values of a refused form to show again.
#[derive(Clone, Debug, Default)]
pub struct Notice {
    pub done: Option<String>,
    pub error: Option<String>,
    /// The refused form's id and its submitted fields.
    pub form: Option<String>,
    pub fields: Vec<(String, String)>,
}

impl Notice {
    fn value(&self, form: &str, name: &str) -> Option<String> {
        (self.form.as_deref() == Some(form))
            .then(|| self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .flatten()
    }

    fn values(&self, form: &str, name: &str) -> Vec<String> {
        if self.form.as_deref() != Some(form) {
            return Vec::new();
        }
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// What the admin page shows.
#[derive(Clone, Debug)]
pub enum AdminView {
    /// Neither an admin password nor a token is set.
    Disabled,
    Login(Notice),
    Dashboard(Dashboard),
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub components: Vec<ComponentStatus>,
    pub incidents: Vec<Incident>,
    pub windows: Vec<MaintenanceWindow>,
    pub csrf: String,
    pub notice: Notice,
}

#[component]
pub fn AdminPage(view: AdminView) -> impl IntoView {
    let body = match view {
        AdminView::Disabled => EitherOf3::A(view! {
            <p class="notice error">
                "The admin area is disabled: start statuscast with STATUSCAST_ADMIN_PASSWORD (or STATUSCAST_ADMIN_TOKEN) set."
            </p>
        }),
        AdminView::Login(notice) => EitherOf3::B(view! {
            <NoticeLine notice/>
            <form class="admin-form login" method="post" action="/admin/login">
                <label>
                    "Password or admin token "
                    <input type="password" name="secret" required autocomplete="current-password" autofocus/>
                </label>
                <button type="submit">"Log in"</button>
            </form>
        }),
        AdminView::Dashboard(d) => EitherOf3::C(view! { <DashboardView d/> }),
    };
    view! {
        <h1>"Operators"</h1>
        {body}
    }
}

#[component]
fn NoticeLine(notice: Notice) -> impl IntoView {
    view! {
        {notice.done.map(|done| view! { <p class="notice done" role="status">{done}</p> })}
        {notice.error.map(|error| view! { <p class="notice error" role="alert">{error}</p> })}
    }
}

/// A `<textarea>` holding `value`. Leptos writes a textarea's children as they are (it does
/// not escape them, unlike every other element's), so the value is escaped here: typed text
/// such as `</textarea><script>` stays text.
#[component]
fn TextArea(name: &'static str, rows: &'static str, value: String) -> impl IntoView {
    let escaped = html_escape::encode_text(&value).into_owned();
    view! { <textarea name=name required maxlength="5000" rows=rows>{escaped}</textarea> }
}

#[component]
fn Csrf(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token/> }
}

/// A `<select>` of `all` (by their names), with `selected` chosen and an optional blank first.
#[component]
fn Select<T: Copy + 'static>(
    name: &'static str,
    all: &'static [T],
    as_str: fn(T) -> &'static str,
    selected: Option<String>,
    #[prop(optional)] blank: Option<&'static str>,
) -> impl IntoView {
    view! {
        <select name=name>
            {blank.map(|b| view! { <option value="">{b}</option> })}
            {all
                .iter()
                .map(|v| {
                    let v = as_str(*v);
                    view! { <option value=v selected=selected.as_deref() == Some(v)>{v}</option> }
                })
                .collect_view()}
        </select>
    }
}

#[component]
fn ComponentBoxes(components: Vec<ComponentStatus>, checked: Vec<String>) -> impl IntoView {
    view! {
        <fieldset class="components-pick">
            <legend>"Affected components"</legend>
            {components
                .into_iter()
                .map(|c| {
                    let on = checked.contains(&c.id);
                    view! {
                        <label>
                            <input type="checkbox" name="components" value=c.id checked=on/>
                            " "
                            {c.name}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let Dashboard { components, incidents, windows, csrf, notice: n } = d;
    let no_incidents = incidents.is_empty().then(|| view! { <p class="empty">"None."</p> });
    let incident_cards = incidents
        .into_iter()
        .map(|i| {
            let form = format!("update-{}", i.id);
            let affects = (!i.components.is_empty()).then(|| format!(" · affects {}", component_names(&components, &i.components)));
            let meta = format!("{} · impact {} · since {}{}", i.status.label(), i.impact.as_str(), utc_minute(i.started_ms), affects.unwrap_or_default());
            let status = n.value(&form, "status").unwrap_or_else(|| i.status.as_str().to_string());
            let action = format!("/admin/incidents/{}/updates", i.id);
            let (csrf, impact, message) = (csrf.clone(), n.value(&form, "impact"), n.value(&form, "message").unwrap_or_default());
            view! {
                <IncidentCard incident=i meta>
                    <form class="admin-form" method="post" action=action>
                        <Csrf token=csrf/>
                        <label>"Status " <Select name="status" all=&IncidentStatus::ALL as_str=IncidentStatus::as_str selected=Some(status)/></label>
                        <label>"Impact " <Select name="impact" all=&Impact::ALL as_str=Impact::as_str selected=impact blank="(unchanged)"/></label>
                        <label>"Update " <TextArea name="message" rows="3" value=message/></label>
                        <button type="submit">"Post update"</button>
                    </form>
                </IncidentCard>
            }
        })
        .collect_view();
    let no_windows = windows.is_empty().then(|| view! { <p class="empty">"None scheduled."</p> });
    let window_cards = windows
        .into_iter()
        .map(|w| {
            let meta = format!(
                "{} to {} · {}",
                utc_minute(w.starts_ms),
                utc_minute(w.ends_ms),
                component_names(&components, &w.components)
            );
            let action = format!("/admin/maintenance/{}/cancel", w.id);
            let csrf = csrf.clone();
            view! {
                <MaintenanceCard window=w meta>
                    <form method="post" action=action>
                        <Csrf token=csrf/>
                        <button type="submit">"Cancel this window"</button>
                    </form>
                </MaintenanceCard>
            }
        })
        .collect_view();
    let open = |name| n.value("open", name);
    let maint = |name| n.value("maintenance", name);
    view! {
        <form class="logout" method="post" action="/admin/logout">
            <Csrf token=csrf.clone()/>
            <button type="submit">"Log out"</button>
        </form>
        <NoticeLine notice=n.clone()/>
        <section class="admin-section">
            <h2>"Active incidents"</h2>
            {no_incidents}
            {incident_cards}
        </section>
        <section class="admin-section">
            <h2>"Open an incident"</h2>
            <form class="admin-form" id="open-incident" method="post" action="/admin/incidents">
                <Csrf token=csrf.clone()/>
                <label>"Title " <input name="title" required maxlength="200" value=open("title").unwrap_or_default()/></label>
                <label>"Impact " <Select name="impact" all=&Impact::ALL as_str=Impact::as_str selected=Some(open("impact").unwrap_or_else(|| "minor".into()))/></label>
                <label>"Status " <Select name="status" all=&IncidentStatus::ALL[..3] as_str=IncidentStatus::as_str selected=open("status")/></label>
                <ComponentBoxes components=components.clone() checked=n.values("open", "components")/>
                <label>"Message " <TextArea name="message" rows="4" value=open("message").unwrap_or_default()/></label>
                <button type="submit">"Open incident"</button>
            </form>
        </section>
        <section class="admin-section">
            <h2>"Scheduled maintenance"</h2>
            {no_windows}
            {window_cards}
            <h3>"Schedule a window"</h3>
            <form class="admin-form" id="schedule-maintenance" method="post" action="/admin/maintenance">
                <Csrf token=csrf/>
                <label>"Title " <input name="title" required maxlength="200" value=maint("title").unwrap_or_default()/></label>
                <label>"Starts (UTC) " <input type="datetime-local" name="starts_at" required value=maint("starts_at").unwrap_or_default()/></label>
                <label>"Ends (UTC) " <input type="datetime-local" name="ends_at" required value=maint("ends_at").unwrap_or_default()/></label>
                <ComponentBoxes components checked=n.values("maintenance", "components")/>
                <button type="submit">"Schedule maintenance"</button>
            </form>
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_escapes_everything_and_keeps_a_refused_forms_values() {
        let components = vec![ComponentStatus::named("db", "<DB>")];
        let incident = Incident {
            id: 4,
            title: "\"><script>x</script>".into(),
            impact: Impact::Minor,
            components: vec!["db".into()],
            status: IncidentStatus::Identified,
            started_ms: 0,
            resolved_ms: None,
            updates: vec![],
        };
        let window = MaintenanceWindow {
            id: 2,
            title: "<b>upgrade</b>".into(),
            starts_ms: 0,
            ends_ms: 60_000,
            components: vec!["db".into()],
        };
        let notice = Notice {
            error: Some("title: is required".into()),
            form: Some("open".into()),
            fields: vec![("message".into(), "</textarea><script>".into()), ("components".into(), "db".into())],
            ..Notice::default()
        };
        let d = Dashboard { components, incidents: vec![incident], windows: vec![window], csrf: "c0ffee".into(), notice };
        let html = view! { <AdminPage view=AdminView::Dashboard(d)/> }.to_html();
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<DB>"), "{html}");
        assert!(html.contains("&lt;/textarea&gt;&lt;script&gt;"), "the typed message is kept, escaped");
        assert!(html.contains("value=\"db\" checked"), "the ticked component stays ticked: {html}");
        assert!(html.contains("affects &lt;DB&gt;"));
        assert_eq!(html.matches("name=\"csrf\" value=\"c0ffee\"").count(), 5, "every form carries the token");
        assert!(html.contains("role=\"alert\" class=\"notice error\">title: is required</p>"), "{html}");
    }
}
