//! The admin area's HTML (server-rendered; every value escaped). Forms post to
//! `/admin/...` with the session's CSRF token and work without JavaScript.

use crate::status::{component_names, escape_html as esc, utc_minute, ComponentStatus, Impact, Incident, IncidentStatus, MaintenanceWindow};
use std::fmt::Write;

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
    fn value(&self, form: &str, name: &str) -> Option<&str> {
        (self.form.as_deref() == Some(form))
            .then(|| self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
            .flatten()
    }
    fn values(&self, form: &str, name: &str) -> Vec<&str> {
        if self.form.as_deref() != Some(form) {
            return Vec::new();
        }
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

fn notice_html(html: &mut String, n: &Notice) {
    if let Some(done) = &n.done {
        let _ = write!(html, "<p class=\"notice done\" role=\"status\">{}</p>", esc(done));
    }
    if let Some(error) = &n.error {
        let _ = write!(html, "<p class=\"notice error\" role=\"alert\">{}</p>", esc(error));
    }
}

pub fn disabled() -> String {
    "<h1>Operators</h1><p class=\"notice error\">The admin area is disabled: start statuscast with \
     STATUSCAST_ADMIN_PASSWORD (or STATUSCAST_ADMIN_TOKEN) set.</p>"
        .into()
}

pub fn login(notice: &Notice) -> String {
    let mut html = String::from("<h1>Operators</h1>");
    notice_html(&mut html, notice);
    html.push_str(
        "<form class=\"admin-form login\" method=\"post\" action=\"/admin/login\">\
         <label>Password or admin token <input type=\"password\" name=\"secret\" required autocomplete=\"current-password\" autofocus></label>\
         <button type=\"submit\">Log in</button></form>",
    );
    html
}

fn hidden_csrf(csrf: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(csrf))
}

fn select<T: Copy>(name: &str, all: &[T], as_str: fn(T) -> &'static str, selected: Option<&str>, blank: Option<&str>) -> String {
    let mut s = format!("<select name=\"{name}\">");
    if let Some(b) = blank {
        let _ = write!(s, "<option value=\"\">{}</option>", esc(b));
    }
    for v in all {
        let v = as_str(*v);
        let sel = if selected == Some(v) { " selected" } else { "" };
        let _ = write!(s, "<option value=\"{v}\"{sel}>{v}</option>");
    }
    s.push_str("</select>");
    s
}

fn component_boxes(components: &[ComponentStatus], checked: &[&str]) -> String {
    let mut s = String::from("<fieldset class=\"components-pick\"><legend>Affected components</legend>");
    for c in components {
        let on = if checked.contains(&c.id.as_str()) { " checked" } else { "" };
        let _ = write!(
            s,
            "<label><input type=\"checkbox\" name=\"components\" value=\"{}\"{on}> {}</label>",
            esc(&c.id),
            esc(&c.name)
        );
    }
    s.push_str("</fieldset>");
    s
}

pub fn dashboard(
    components: &[ComponentStatus],
    incidents: &[Incident],
    windows: &[MaintenanceWindow],
    csrf: &str,
    n: &Notice,
) -> String {
    let csrf_input = hidden_csrf(csrf);
    let mut html = String::from("<h1>Operators</h1>");
    let _ = write!(
        html,
        "<form class=\"logout\" method=\"post\" action=\"/admin/logout\">{csrf_input}<button type=\"submit\">Log out</button></form>"
    );
    notice_html(&mut html, n);

    html.push_str("<section class=\"admin-section\"><h2>Active incidents</h2>");
    if incidents.is_empty() {
        html.push_str("<p class=\"empty\">None.</p>");
    }
    for i in incidents {
        let form = format!("update-{}", i.id);
        let _ = write!(
            html,
            "<article class=\"incident impact-{}\" data-incident=\"{}\"><h3>{}</h3><p class=\"incident-meta\">{} · impact {} · since {}{}</p>\
             <form class=\"admin-form\" method=\"post\" action=\"/admin/incidents/{}/updates\">{csrf_input}\
             <label>Status {}</label><label>Impact {}</label>\
             <label>Update <textarea name=\"message\" required maxlength=\"5000\" rows=\"3\">{}</textarea></label>\
             <button type=\"submit\">Post update</button></form></article>",
            i.impact.as_str(),
            i.id,
            esc(&i.title),
            i.status.label(),
            i.impact.as_str(),
            utc_minute(i.started_ms),
            if i.components.is_empty() { String::new() } else { format!(" · affects {}", esc(&component_names(components, &i.components))) },
            i.id,
            select("status", &IncidentStatus::ALL, IncidentStatus::as_str, Some(n.value(&form, "status").unwrap_or(i.status.as_str())), None),
            select("impact", &Impact::ALL, Impact::as_str, n.value(&form, "impact"), Some("(unchanged)")),
            esc(n.value(&form, "message").unwrap_or("")),
        );
    }
    html.push_str("</section>");

    let f = "open";
    let _ = write!(
        html,
        "<section class=\"admin-section\"><h2>Open an incident</h2>\
         <form class=\"admin-form\" id=\"open-incident\" method=\"post\" action=\"/admin/incidents\">{csrf_input}\
         <label>Title <input name=\"title\" required maxlength=\"200\" value=\"{}\"></label>\
         <label>Impact {}</label><label>Status {}</label>{}\
         <label>Message <textarea name=\"message\" required maxlength=\"5000\" rows=\"4\">{}</textarea></label>\
         <button type=\"submit\">Open incident</button></form></section>",
        esc(n.value(f, "title").unwrap_or("")),
        select("impact", &Impact::ALL, Impact::as_str, Some(n.value(f, "impact").unwrap_or("minor")), None),
        select("status", &IncidentStatus::ALL[..3], IncidentStatus::as_str, n.value(f, "status"), None),
        component_boxes(components, &n.values(f, "components")),
        esc(n.value(f, "message").unwrap_or("")),
    );

    html.push_str("<section class=\"admin-section\"><h2>Scheduled maintenance</h2>");
    if windows.is_empty() {
        html.push_str("<p class=\"empty\">None scheduled.</p>");
    }
    for w in windows {
        let _ = write!(
            html,
            "<article class=\"incident maintenance\" data-maintenance=\"{}\"><h3>{}</h3><p class=\"incident-meta\">{} to {} · {}</p>\
             <form method=\"post\" action=\"/admin/maintenance/{}/cancel\">{csrf_input}<button type=\"submit\">Cancel this window</button></form></article>",
            w.id,
            esc(&w.title),
            utc_minute(w.starts_ms),
            utc_minute(w.ends_ms),
            esc(&component_names(components, &w.components)),
            w.id
        );
    }
    let f = "maintenance";
    let _ = write!(
        html,
        "<h3>Schedule a window</h3><form class=\"admin-form\" id=\"schedule-maintenance\" method=\"post\" action=\"/admin/maintenance\">{csrf_input}\
         <label>Title <input name=\"title\" required maxlength=\"200\" value=\"{}\"></label>\
         <label>Starts (UTC) <input type=\"datetime-local\" name=\"starts_at\" required value=\"{}\"></label>\
         <label>Ends (UTC) <input type=\"datetime-local\" name=\"ends_at\" required value=\"{}\"></label>{}\
         <button type=\"submit\">Schedule maintenance</button></form></section>",
        esc(n.value(f, "title").unwrap_or("")),
        esc(n.value(f, "starts_at").unwrap_or("")),
        esc(n.value(f, "ends_at").unwrap_or("")),
        component_boxes(components, &n.values(f, "components")),
    );
    html
}

#[cfg(test)]
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
        let window = MaintenanceWindow { id: 2, title: "<b>upgrade</b>".into(), starts_ms: 0, ends_ms: 60_000, components: vec!["db".into()] };
        let notice = Notice {
            error: Some("title: is required".into()),
            form: Some("open".into()),
            fields: vec![("message".into(), "</textarea><script>".into()), ("components".into(), "db".into())],
            ..Notice::default()
        };
        let html = dashboard(&components, &[incident], &[window], "c0ffee", &notice);
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<DB>"), "{html}");
        assert!(html.contains("&lt;/textarea&gt;&lt;script&gt;"), "the typed message is kept, escaped");
        assert!(html.contains("value=\"db\" checked"), "the ticked component stays ticked");
        assert!(html.contains("affects &lt;DB&gt;"));
        assert_eq!(html.matches("name=\"csrf\" value=\"c0ffee\"").count(), 5, "every form carries the token");
        assert!(html.contains("<p class=\"notice error\" role=\"alert\">title: is required</p>"));
    }
}
