//! The admin area: the login form, or the dashboard (active incidents with an update form
//! each, a form to open one, maintenance windows with a cancel button, a form to schedule
//! one). Each form is an `ActionForm` of a server function ([`actions`]): with JavaScript
//! it answers in place (the outcome above the forms, a refusal also beside its field) and
//! the lists follow the live status; without, it is a plain form post answered with the
//! page again. Every form carries the session's CSRF token; every value goes through
//! `view!`.
//!
//! Its islands are in a browser bundle of their own, which only the admin area loads (the
//! `hydrate-admin` feature; see the Makefile's `build`): the public pages' bundle has none
//! of this code.

pub mod actions;
#[cfg(feature = "ssr")]
pub mod notifications;

use super::cards::{IncidentCard, MaintenanceCard};
use super::live::LiveStatus;
use crate::model::{component_names, utc_minute, ComponentStatus, Impact, Incident, IncidentStatus, MaintenanceWindow};
use actions::{CancelMaintenance, Login, Logout, OpenIncident, ScheduleMaintenance, UpdateIncident};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// What the page says above the forms, and the values of a refused form to show again.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub done: Option<String>,
    pub error: Option<String>,
    /// The form the notice is about (`open`, `update-4`, ...) and its submitted fields.
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

    /// The refusal's text for `field` of `form` (`title: is required` → `is required`).
    fn field_error(&self, form: &str, field: &str) -> Option<String> {
        if self.form.as_deref() != Some(form) {
            return None;
        }
        self.error.as_deref()?.strip_prefix(field)?.strip_prefix(": ").map(str::to_string)
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
    pub csrf: String,
    pub notice: Notice,
    /// Subscribers and the delivery log (drawn on the server only).
    #[cfg(feature = "ssr")]
    pub notifications: notifications::Panel,
}

#[component]
pub fn AdminPage(view: AdminView) -> impl IntoView {
    let body = match view {
        AdminView::Disabled => EitherOf3::A(view! {
            <p class="notice error">
                "The admin area is disabled: start statuscast with STATUSCAST_ADMIN_PASSWORD (or STATUSCAST_ADMIN_TOKEN) set."
            </p>
        }),
        AdminView::Login(notice) => EitherOf3::B(view! { <LoginForm notice/> }),
        AdminView::Dashboard(d) => {
            #[cfg(feature = "ssr")]
            let panel = {
                let (panel, csrf) = (d.notifications, d.csrf.clone());
                view! { <notifications::NotificationsPanel panel csrf/> }
            };
            #[cfg(not(feature = "ssr"))]
            let panel = ();
            EitherOf3::C(view! {
                <AdminDashboard csrf=d.csrf notice=d.notice/>
                {panel}
            })
        }
    };
    view! {
        <h1>"Operators"</h1>
        {body}
    }
}

/// Shows each result of `action` as the page's notice, about the form `form` names for the
/// action's last input. (One action per kind of form, made with the dashboard: a form in a
/// list that the live status redraws must not take its action with it.)
fn follow<S>(action: ServerAction<S>, form: impl Fn(&S) -> String + Send + Sync + 'static, shown: RwSignal<Notice>)
where
    S: ServerFn<Output = String, Error = ServerFnError> + Clone + Send + Sync + 'static,
{
    let last_form = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last_form.set(form(&input));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = action.value().get() {
            shown.set(match result {
                Ok(done) => Notice { done: Some(done), ..Notice::default() },
                Err(e) => Notice { error: Some(refusal_text(e)), form: Some(last_form.get_untracked()), ..Notice::default() },
            });
        }
    });
}

/// A refusal as the server worded it.
fn refusal_text(e: ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message,
        other => format!("The request failed: {other}"),
    }
}

#[component]
fn NoticeLine(shown: RwSignal<Notice>) -> impl IntoView {
    view! {
        {move || shown.with(|n| n.done.clone()).map(|done| view! { <p class="notice done" role="status">{done}</p> })}
        {move || shown.with(|n| n.error.clone()).map(|error| view! { <p class="notice error" role="alert">{error}</p> })}
    }
}

/// The refusal beside the field it names.
#[component]
fn FieldError(shown: RwSignal<Notice>, form: String, field: &'static str) -> impl IntoView {
    move || shown.with(|n| n.field_error(&form, field)).map(|e| view! { <span class="field-error">{e}</span> })
}

#[island]
fn LoginForm(notice: Notice) -> impl IntoView {
    let shown = RwSignal::new(notice);
    let login = ServerAction::<Login>::new();
    follow(login, |_| "login".into(), shown);
    view! {
        <NoticeLine shown/>
        <ActionForm action=login attr:class="admin-form login">
            <label>
                "Password or admin token "
                <input type="password" name="secret" required autocomplete="current-password" autofocus/>
            </label>
            <button type="submit">"Log in"</button>
        </ActionForm>
    }
}

/// A `<textarea>` holding `value`. Leptos writes a textarea's children as they are (it does
/// not escape them, unlike every other element's), so the server escapes the value here:
/// typed text such as `</textarea><script>` stays text. The browser keeps what the server
/// sent.
#[component]
fn TextArea(name: &'static str, rows: &'static str, value: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = html_escape::encode_text(&value).into_owned();
    #[cfg(not(feature = "ssr"))]
    let text = {
        drop(value);
        String::new()
    };
    view! { <textarea name=name required maxlength="5000" rows=rows>{text}</textarea> }
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

/// A checkbox per component (`components[]`, as the server functions read lists).
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
                            <input type="checkbox" name="components[]" value=c.id checked=on/>
                            " "
                            {c.name}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// The dashboard: an island, so that its forms answer in place and its lists follow the
/// live status (another operator's incident appears here too).
#[island]
fn AdminDashboard(csrf: String, notice: Notice) -> impl IntoView {
    let live = LiveStatus::expect();
    let typed = notice.clone();
    let shown = RwSignal::new(notice);
    let incidents = Memo::new(move |_| live.snapshot.with(|s| s.incidents.clone()));
    let windows = Memo::new(move |_| live.snapshot.with(|s| s.maintenance.clone()));
    let components = Memo::new(move |_| live.snapshot.with(|s| s.components.clone()));
    let (open, schedule, logout) =
        (ServerAction::<OpenIncident>::new(), ServerAction::<ScheduleMaintenance>::new(), ServerAction::<Logout>::new());
    let (update, cancel) = (ServerAction::<UpdateIncident>::new(), ServerAction::<CancelMaintenance>::new());
    follow(open, |_| "open".into(), shown);
    follow(schedule, |_| "maintenance".into(), shown);
    follow(logout, |_| "logout".into(), shown);
    follow(update, |u| format!("update-{}", u.id), shown);
    follow(cancel, |c| format!("cancel-{}", c.id), shown);

    let incident_cards = {
        let (csrf, typed) = (csrf.clone(), typed.clone());
        move || {
            let list = incidents.get();
            let empty = list.is_empty().then(|| view! { <p class="empty">"None."</p> });
            let cards = list
                .into_iter()
                .map(|i| incident_card(i, &components.get_untracked(), &csrf, &typed, update, shown))
                .collect_view();
            view! {
                {empty}
                {cards}
            }
        }
    };
    let window_cards = {
        let csrf = csrf.clone();
        move || {
            let list = windows.get();
            let empty = list.is_empty().then(|| view! { <p class="empty">"None scheduled."</p> });
            let cards = list.into_iter().map(|w| window_card(w, &components.get_untracked(), &csrf, cancel)).collect_view();
            view! {
                {empty}
                {cards}
            }
        }
    };
    let open_value = |name| typed.value("open", name).unwrap_or_default();
    let maint_value = |name| typed.value("maintenance", name).unwrap_or_default();
    let (open_title, open_message) = (open_value("title"), open_value("message"));
    let (maint_title, maint_starts, maint_ends) = (maint_value("title"), maint_value("starts_at"), maint_value("ends_at"));
    let open_impact = Some(typed.value("open", "impact").unwrap_or_else(|| "minor".into()));
    let open_status = typed.value("open", "status");
    let open_checked = typed.values("open", "components");
    let maint_checked = typed.values("maintenance", "components");
    let (csrf_logout, csrf_open, csrf_schedule) = (csrf.clone(), csrf.clone(), csrf);
    view! {
        <ActionForm action=logout attr:class="logout">
            <Csrf token=csrf_logout/>
            <button type="submit">"Log out"</button>
        </ActionForm>
        <NoticeLine shown/>
        <section class="admin-section">
            <h2>"Active incidents"</h2>
            {incident_cards}
        </section>
        <section class="admin-section">
            <h2>"Open an incident"</h2>
            <ActionForm action=open attr:class="admin-form" attr:id="open-incident">
                <Csrf token=csrf_open/>
                <label>
                    "Title "
                    <input name="title" required maxlength="200" value=open_title/>
                    <FieldError shown form="open".into() field="title"/>
                </label>
                <label>
                    "Impact "
                    <Select
                        name="impact"
                        all=&Impact::ALL
                        as_str=Impact::as_str
                        selected=open_impact
                    />
                    <FieldError shown form="open".into() field="impact"/>
                </label>
                <label>
                    "Status "
                    <Select
                        name="status"
                        all=&IncidentStatus::ALL[..3]
                        as_str=IncidentStatus::as_str
                        selected=open_status
                    />
                    <FieldError shown form="open".into() field="status"/>
                </label>
                {move || view! { <ComponentBoxes components=components.get() checked=open_checked.clone()/> }}
                <FieldError shown form="open".into() field="components"/>
                <label>
                    "Message "
                    <TextArea name="message" rows="4" value=open_message/>
                    <FieldError shown form="open".into() field="message"/>
                </label>
                <button type="submit">"Open incident"</button>
            </ActionForm>
        </section>
        <section class="admin-section">
            <h2>"Scheduled maintenance"</h2>
            {window_cards}
            <h3>"Schedule a window"</h3>
            <ActionForm action=schedule attr:class="admin-form" attr:id="schedule-maintenance">
                <Csrf token=csrf_schedule/>
                <label>
                    "Title "
                    <input name="title" required maxlength="200" value=maint_title/>
                    <FieldError shown form="maintenance".into() field="title"/>
                </label>
                <label>
                    "Starts (UTC) "
                    <input type="datetime-local" name="starts_at" required value=maint_starts/>
                    <FieldError shown form="maintenance".into() field="starts_at"/>
                </label>
                <label>
                    "Ends (UTC) "
                    <input type="datetime-local" name="ends_at" required value=maint_ends/>
                    <FieldError shown form="maintenance".into() field="ends_at"/>
                </label>
                {move || view! { <ComponentBoxes components=components.get() checked=maint_checked.clone()/> }}
                <FieldError shown form="maintenance".into() field="components"/>
                <button type="submit">"Schedule maintenance"</button>
            </ActionForm>
        </section>
    }
}

/// An active incident with its update form.
fn incident_card(
    i: Incident,
    components: &[ComponentStatus],
    csrf: &str,
    typed: &Notice,
    update: ServerAction<UpdateIncident>,
    shown: RwSignal<Notice>,
) -> impl IntoView {
    let form = format!("update-{}", i.id);
    let affects = if i.components.is_empty() {
        String::new()
    } else {
        format!(" · affects {}", component_names(components, &i.components))
    };
    let meta = format!("{} · impact {} · since {}{affects}", i.status.label(), i.impact.as_str(), utc_minute(i.started_ms));
    let status = typed.value(&form, "status").unwrap_or_else(|| i.status.as_str().to_string());
    let (impact, message) = (typed.value(&form, "impact"), typed.value(&form, "message").unwrap_or_default());
    let (id, csrf) = (i.id.to_string(), csrf.to_string());
    view! {
        <IncidentCard incident=i meta>
            <ActionForm action=update attr:class="admin-form">
                <Csrf token=csrf/>
                <input type="hidden" name="id" value=id/>
                <label>
                    "Status "
                    <Select name="status" all=&IncidentStatus::ALL as_str=IncidentStatus::as_str selected=Some(status)/>
                </label>
                <label>
                    "Impact "
                    <Select name="impact" all=&Impact::ALL as_str=Impact::as_str selected=impact blank="(unchanged)"/>
                </label>
                <label>
                    "Update "
                    <TextArea name="message" rows="3" value=message/>
                    <FieldError shown form=form field="message"/>
                </label>
                <button type="submit">"Post update"</button>
            </ActionForm>
        </IncidentCard>
    }
}

/// A maintenance window with its cancel button.
fn window_card(
    w: MaintenanceWindow,
    components: &[ComponentStatus],
    csrf: &str,
    cancel: ServerAction<CancelMaintenance>,
) -> impl IntoView {
    let meta =
        format!("{} to {} · {}", utc_minute(w.starts_ms), utc_minute(w.ends_ms), component_names(components, &w.components));
    let (id, csrf) = (w.id.to_string(), csrf.to_string());
    view! {
        <MaintenanceCard window=w meta>
            <ActionForm action=cancel>
                <Csrf token=csrf/>
                <input type="hidden" name="id" value=id/>
                <button type="submit">"Cancel this window"</button>
            </ActionForm>
        </MaintenanceCard>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::model::{Snapshot, StatusView};
    use crate::ui::Live;

    #[test]
    fn the_dashboard_escapes_everything_and_keeps_a_refused_forms_values() {
        let mut snapshot = Snapshot::unknown();
        snapshot.components = vec![ComponentStatus::named("db", "<DB>")];
        snapshot.incidents = vec![Incident {
            id: 4,
            title: "\"><script>x</script>".into(),
            impact: Impact::Minor,
            components: vec!["db".into()],
            status: IncidentStatus::Identified,
            started_ms: 0,
            resolved_ms: None,
            updates: vec![],
        }];
        snapshot.maintenance = vec![MaintenanceWindow {
            id: 2,
            title: "<b>upgrade</b>".into(),
            starts_ms: 0,
            ends_ms: 60_000,
            components: vec!["db".into()],
        }];
        let notice = Notice {
            error: Some("title: is required".into()),
            form: Some("open".into()),
            fields: vec![("message".into(), "</textarea><script>".into()), ("components".into(), "db".into())],
            ..Notice::default()
        };
        let d = Dashboard { csrf: "c0ffee".into(), notice, notifications: Default::default() };
        let status = StatusView { snapshot, server_now_ms: 0 };
        // Islands render only under an owner that renders for the browser (as in a request).
        let owner = Owner::new_root(Some(std::sync::Arc::new(hydration_context::SsrSharedContext::new())));
        let html = owner.with(|| {
            let status_json = serde_json::to_string(&status).unwrap();
            provide_context(crate::ui::PageContext { status, status_json, data: crate::ui::PageData::None });
            view! {
                <Live>
                    <AdminPage view=AdminView::Dashboard(d.clone())/>
                </Live>
            }
            .to_html()
        });
        // Nowhere raw: not in the text, not in the JSON the islands read (attributes escape `<`).
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<DB>"), "{html}");
        assert!(html.contains("&lt;/textarea&gt;&lt;script&gt;"), "the typed message is kept, escaped");
        assert!(html.contains("value=\"db\" checked"), "the ticked component stays ticked: {html}");
        assert!(html.contains("affects &lt;DB&gt;"));
        assert_eq!(html.matches("name=\"csrf\" value=\"c0ffee\"").count(), 5, "every form carries the token");
        assert!(html.contains("role=\"alert\" class=\"notice error\">title: is required</p>"), "{html}");
        assert!(html.contains("<span class=\"field-error\">is required</span>"), "the error beside its field");
    }

    #[test]
    fn a_field_error_is_found_by_form_and_field() {
        let n = Notice { error: Some("title: is required".into()), form: Some("open".into()), ..Notice::default() };
        assert_eq!(n.field_error("open", "title").as_deref(), Some("is required"));
        assert_eq!(n.field_error("open", "message"), None);
        assert_eq!(n.field_error("maintenance", "title"), None);
    }
}
