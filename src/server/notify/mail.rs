//! Mails: a notice, and the double opt-in confirmation. Each has a plain text part and an
//! HTML part; the HTML is rendered by Leptos from the page's own components (an incident is
//! the [`IncidentCard`] of the status page), so every piece of text is escaped by `view!`.

use super::event::{EventKind, Notice, PageInfo};
use super::payload::{clip, detail, headline, link};
use crate::model::{utc_minute, Level};
use crate::server::notify::deliver::one_line;
use crate::ui::cards::IncidentCard;
use leptos::prelude::*;

/// A mail to send: subject, and the same message as plain text and as HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A subject line: one line, of reasonable length.
fn subject(s: &str) -> String {
    clip(&one_line(s), 250)
}

/// The colour of a level (the page's own, `style/main.css`).
fn color(level: Level) -> &'static str {
    match level {
        Level::Operational => "#1f8a4c",
        Level::UnderMaintenance => "#2f6fdb",
        Level::DegradedPerformance => "#b7791f",
        Level::PartialOutage => "#d4631c",
        Level::MajorOutage => "#c0262d",
    }
}

/// The page's classes, for the clients that read a `<style>`; the layout around them is
/// inline (for the ones that do not).
const CSS: &str = "body { margin: 0; padding: 0; } \
    .incident { background: #ffffff; border: 1px solid #e3e6ea; border-radius: 8px; padding: 12px 16px; } \
    .incident h2 { font-size: 18px; margin: 0 0 4px 0; } \
    .incident-meta { color: #5b6470; font-size: 13px; margin: 0 0 8px 0; } \
    .timeline { padding-left: 18px; margin: 0; } \
    .timeline li { margin: 0 0 6px 0; } \
    .timeline time { color: #5b6470; font-size: 12px; white-space: nowrap; }";

const FONT: &str =
    "font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.45;";

/// A component's change, as a card like the incident's.
#[component]
fn ComponentChange(name: String, old: Level, new: Level, since: String, reminder: bool) -> impl IntoView {
    let line = if reminder {
        format!("Still {} since {since}", new.label().to_lowercase())
    } else {
        format!("{} → {} at {since}", old.label(), new.label())
    };
    view! {
        <div class=format!("component level-{}", new.as_str())
            style="background: #ffffff; border: 1px solid #e3e6ea; border-radius: 8px; padding: 12px 16px;">
            <h2 style="font-size: 18px; margin: 0 0 4px 0;">
                <span style=format!("color: {};", color(new)) aria-hidden="true">{new.icon()}</span>
                " "
                {name}
            </h2>
            <p style=format!("margin: 0; color: {}; font-weight: bold;", color(new))>{new.label()}</p>
            <p style="margin: 4px 0 0 0; color: #5b6470; font-size: 13px;">{line}</p>
        </div>
    }
}

/// The document around a mail's content: the page's name, the content, the links.
fn document(title: String, page: &PageInfo, content: AnyView, footer: String, unsubscribe: Option<String>) -> String {
    let page_name = page.name.clone();
    let page_link = page.url.clone().map(|u| {
        view! {
            <p style="margin: 16px 0 0 0;">
                <a href=u style="color: #2454b5;">"View the status page"</a>
            </p>
        }
    });
    let unsubscribe = unsubscribe.map(|u| {
        view! {
            " "
            <a href=u style="color: #5b6470;">"Unsubscribe"</a>
        }
    });
    let body = view! {
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title}</title>
                <style>{CSS}</style>
            </head>
            <body style=format!("margin: 0; padding: 0; background: #f6f7f9; color: #1b1f24; {FONT}")>
                <div style="max-width: 600px; margin: 0 auto; padding: 24px 16px;">
                    <p style="margin: 0 0 12px 0; font-size: 13px; color: #5b6470; font-weight: bold;">{page_name}</p>
                    {content}
                    {page_link}
                    <p style="margin: 24px 0 0 0; font-size: 12px; color: #5b6470;">{footer} {unsubscribe}</p>
                </div>
            </body>
        </html>
    };
    format!("<!DOCTYPE html>\n{}", body.to_html())
}

/// The mail telling `notice`; `unsubscribe`: the recipient's unsubscribe address, if any.
pub fn notice(notice: &Notice, unsubscribe: Option<&str>) -> Mail {
    let page = &notice.page;
    let headline = headline(notice);
    let subject = subject(&format!("[{}] {headline}", page.name));
    let link = link(notice);

    let mut text = format!("{headline}\n\n{}\n", detail(notice));
    if let Some(i) = &notice.incident {
        if i.updates.len() > 1 {
            text.push_str("\nEarlier:\n");
            for u in i.updates.iter().skip(1) {
                text.push_str(&format!("- {} ({}): {}\n", u.status.label(), utc_minute(u.at_ms), one_line(&u.message)));
            }
        }
    }
    if let Some(l) = &link {
        text.push_str(&format!("\nStatus page: {l}\n"));
    }
    if let Some(u) = unsubscribe {
        text.push_str(&format!("Unsubscribe: {u}\n"));
    }

    let content = match (&notice.component, &notice.incident) {
        (Some(c), _) => view! {
            <ComponentChange
                name=c.name.clone()
                old=c.old
                new=c.new
                since=utc_minute(c.since_ms)
                reminder=notice.kind == EventKind::ComponentReminder
            />
        }
        .into_any(),
        (None, Some(i)) => {
            let mut meta = format!("Impact: {}", i.impact.as_str());
            if !notice.component_names.is_empty() {
                meta.push_str(&format!(" · Affects: {}", notice.component_names.join(", ")));
            }
            let verb = match notice.kind {
                EventKind::IncidentOpened => "New incident",
                EventKind::IncidentResolved => "Incident resolved",
                _ => "Incident update",
            };
            view! {
                <p style="margin: 0 0 8px 0; font-weight: bold;">{verb}</p>
                <IncidentCard incident=i.clone() meta=meta/>
            }
            .into_any()
        }
        (None, None) => view! { <p>{page.description.clone()}</p> }.into_any(),
    };
    let footer = format!("Sent by {} at {}.", one_line(&page.name), utc_minute(notice.at_ms));
    let html = document(subject.clone(), page, content, footer, unsubscribe.map(str::to_string));
    Mail { subject, text, html }
}

/// The double opt-in mail: asks to confirm a subscription to `components` (names; none:
/// all of them) by opening `confirm_url`.
pub fn confirmation(page: &PageInfo, confirm_url: &str, unsubscribe_url: &str, components: &[String]) -> Mail {
    let name = one_line(&page.name);
    let subject = subject(&format!("Confirm your subscription to {name}"));
    let what = if components.is_empty() {
        "all components".to_string()
    } else {
        format!("these components: {}", components.iter().map(|c| one_line(c)).collect::<Vec<_>>().join(", "))
    };
    let text = format!(
        "Someone (hopefully you) asked to receive updates from {name} at this address, about {what}.\n\n\
         To confirm, open this link:\n{confirm_url}\n\n\
         If it was not you, ignore this mail: nothing more will be sent unless the link is opened.\n\n\
         Unsubscribe: {unsubscribe_url}\n"
    );
    let confirm = confirm_url.to_string();
    let content = view! {
        <div style="background: #ffffff; border: 1px solid #e3e6ea; border-radius: 8px; padding: 12px 16px;">
            <h2 style="font-size: 18px; margin: 0 0 8px 0;">{subject.clone()}</h2>
            <p style="margin: 0 0 12px 0;">
                "Someone (hopefully you) asked to receive updates from " {name.clone()}
                " at this address, about " {what} "."
            </p>
            <p style="margin: 0 0 12px 0;">
                <a href=confirm.clone()
                    style="display: inline-block; background: #2454b5; color: #ffffff; padding: 8px 16px; border-radius: 6px; text-decoration: none; font-weight: bold;">
                    "Confirm subscription"
                </a>
            </p>
            <p style="margin: 0; font-size: 13px; color: #5b6470;">
                "Or open this link: " <a href=confirm style="color: #2454b5;">{confirm_url.to_string()}</a>
            </p>
            <p style="margin: 12px 0 0 0; font-size: 13px; color: #5b6470;">
                "If it was not you, ignore this mail: nothing more will be sent unless the link is opened."
            </p>
        </div>
    }
    .into_any();
    let html = document(subject.clone(), page, content, format!("Sent by {name}."), Some(unsubscribe_url.to_string()));
    Mail { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::notify::payload::tests::{component_notice, incident_notice, page};

    #[test]
    fn incident_mail_escapes_everything_typed() {
        let m = notice(&incident_notice(EventKind::IncidentOpened), Some("https://status.example.com/u?t=a&b=1"));
        assert_eq!(m.subject, "[Acme <Status>] New incident: DB <script>x</script> @everyone Bcc: evil@example.com (Identified)");
        assert!(!m.subject.contains(['\r', '\n']));
        for raw in ["<script>", "</script>", "<b>", "<Status>", "<base>"] {
            assert!(!m.html.contains(raw), "{raw} raw in {}", m.html);
        }
        assert!(m.html.contains("DB &lt;script&gt;x&lt;/script&gt;"), "{}", m.html);
        assert!(m.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", m.html);
        assert!(m.html.contains("Affects: Data&lt;base&gt;"), "{}", m.html);
        assert!(m.html.starts_with("<!DOCTYPE html>\n<html"), "{}", m.html);
        assert!(m.html.contains(r#"id="incident-7""#), "the page's card: {}", m.html);
        assert!(m.html.contains(r#"href="https://status.example.com""#));
        assert!(m.html.contains(r#"href="https://status.example.com/u?t=a&amp;b=1""#), "{}", m.html);
        assert_eq!(m.html.matches("<li>").count(), 2);

        assert!(m.text.starts_with("New incident: DB <script>x</script>"), "text is plain: {}", m.text);
        assert!(m.text.contains("@everyone <script>alert(1)</script>\nline two & more"));
        assert!(m.text.contains("- Investigating (2025-12-02 06:33 UTC): Looking <b>"), "{}", m.text);
        assert!(m.text.contains("Status page: https://status.example.com/history#incident-7\n"), "{}", m.text);
        assert!(m.text.contains("Unsubscribe: https://status.example.com/u?t=a&b=1\n"), "{}", m.text);
    }

    #[test]
    fn component_mail() {
        let m = notice(&component_notice(EventKind::ComponentChanged, Level::Operational, Level::MajorOutage), None);
        assert_eq!(m.subject, "[Acme <Status>] API & <Edge>: Operational → Major outage");
        assert!(m.html.contains("API &amp; &lt;Edge&gt;") && !m.html.contains("<Edge>"), "{}", m.html);
        assert!(m.html.contains("Operational → Major outage at 2025-12-02 05:13 UTC"), "{}", m.html);
        assert!(!m.html.contains("Unsubscribe"));
        assert!(m.text.contains("Status page: https://status.example.com\n"), "{}", m.text);
        assert!(!m.text.contains("Unsubscribe"));

        let r = notice(&component_notice(EventKind::ComponentReminder, Level::MajorOutage, Level::MajorOutage), None);
        assert_eq!(r.subject, "[Acme <Status>] API & <Edge> is still major outage");
        assert!(r.html.contains("Still major outage since 2025-12-02 05:13 UTC"), "{}", r.html);
    }

    #[test]
    fn confirmation_mail() {
        let mut p = page();
        p.name = "Acme\r\nBcc: x@example.com".into();
        let m = confirmation(&p, "https://s.example.com/confirm?t=1&x=<2>", "https://s.example.com/unsub?t=1", &[]);
        assert_eq!(m.subject, "Confirm your subscription to Acme Bcc: x@example.com");
        assert!(m.text.contains("about all components."), "{}", m.text);
        assert!(m.text.contains("\nhttps://s.example.com/confirm?t=1&x=<2>\n"), "{}", m.text);
        assert!(m.text.contains("Unsubscribe: https://s.example.com/unsub?t=1\n"));
        assert!(m.html.contains(r#"href="https://s.example.com/confirm?t=1&amp;x=&lt;2&gt;""#), "{}", m.html);
        assert!(!m.html.contains("<2>"));
        assert!(m.html.contains(r#"href="https://s.example.com/unsub?t=1""#));

        let m = confirmation(&page(), "https://c", "https://u", &["API".into(), "<Web>".into()]);
        assert!(m.text.contains("about these components: API, <Web>."), "{}", m.text);
        assert!(m.html.contains("these components: API, &lt;Web&gt;") && !m.html.contains("<Web>"), "{}", m.html);
    }
}
